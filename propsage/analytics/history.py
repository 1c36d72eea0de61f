"""Real line history as snapshots: The Odds API line-change log -> ``odds_snapshots`` rows.

``nfl_line_changes.csv.gz`` (github.com/kevbowl/odds-fetcher, MIT) has one row each time an
(event, book, market, *outcome*) first appears or changes. Analytics want the store's shape:
one row per new or changed *offer* (both sides of one line), and an inactive row when a book's
line leaves. Per (event, book, market) the two outcomes are carried forward between changes;
when the two sides sit on different points (a half-updated spread) they are two one-sided
offers, never one offer with a price on the wrong line.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from propsage.analytics.quotes import as_quotes
from propsage.domain import offer_ids

SNAPSHOT_COLUMNS = [
    "prop_offer_id", "game_id", "league", "player_id", "market", "book", "line_numeric",
    "over_price", "under_price", "is_suspended", "is_active", "is_live", "book_last_update",
    "fetched_at", "commence_time", "home_team", "away_team",
]
_KB = ["game_id", "book", "market"]


def read_line_changes(path: str) -> pd.DataFrame:
    """The line-change CSV with only the columns the conversion needs."""
    cols = ["snapshot_time", "event_id", "commence_time", "home_team", "away_team",
            "bookmaker_key", "market_key", "market_last_update", "outcome_name", "outcome_point",
            "outcome_price", "is_pregame"]
    # Object strings: the conversion works on numpy arrays, and arrow<->object round trips
    # would cost more than the parsing.
    text = ["snapshot_time", "event_id", "commence_time", "home_team", "away_team",
            "bookmaker_key", "market_key", "market_last_update", "outcome_name"]
    return pd.read_csv(path, usecols=cols, dtype=dict.fromkeys(text, object))


def snapshots_from_line_changes(changes: pd.DataFrame, league: str = "nfl") -> pd.DataFrame:
    """Store-shaped snapshot rows from outcome-level line changes (never mutates the input)."""
    c = changes
    market = c["market_key"].to_numpy(object)
    name = c["outcome_name"].to_numpy(object)
    home = c["home_team"].to_numpy(object)
    is_over = np.where(market == "totals", name == "Over", name == home)
    point = c["outcome_point"].to_numpy(float)
    line = np.where(market == "h2h", 0.0, np.where((market == "spreads") & ~is_over, -point, point))
    side = pd.DataFrame({
        "game_id": c["event_id"].to_numpy(object), "book": c["bookmaker_key"].to_numpy(object),
        "market": market, "t": pd.to_datetime(c["snapshot_time"], utc=True, format="ISO8601"),
        "over": is_over, "line": line, "price": c["outcome_price"].to_numpy(float),
        "bt": pd.to_datetime(c["market_last_update"], utc=True, format="ISO8601"),
        "live": c["is_pregame"].to_numpy() == 0,
    })
    key = [*_KB, "t"]
    o = side[side["over"]].drop_duplicates(key, keep="last").drop(columns="over")
    u = side[~side["over"]].drop_duplicates(key, keep="last").drop(columns="over")
    w = o.merge(u, on=key, how="outer", suffixes=("_o", "_u"))
    w = w.sort_values([*_KB, "t"], kind="stable").reset_index(drop=True)
    fill = ["line_o", "price_o", "line_u", "price_u", "bt_o", "bt_u", "live_o", "live_u"]
    w[fill] = w.groupby(_KB, sort=False)[fill].ffill()
    w["bt"] = w[["bt_o", "bt_u"]].max(axis=1)
    w["live"] = w["live_o"].fillna(False).astype(bool) | w["live_u"].fillna(False).astype(bool)
    w["k"] = w.groupby(_KB, sort=False).cumcount()
    lo, lu = w["line_o"].to_numpy(float), w["line_u"].to_numpy(float)
    same = (lo == lu)
    both = w.assign(line=np.where(np.isnan(lo), lu, lo), over_price=w["price_o"],
                    under_price=np.where(same | np.isnan(lo), w["price_u"], np.nan))
    both["over_price"] = np.where(np.isnan(lo), np.nan, both["over_price"])
    split = w[~same & ~np.isnan(lo) & ~np.isnan(lu)].assign(
        line=lambda d: d["line_u"], over_price=np.nan, under_price=lambda d: d["price_u"])
    offers = pd.concat([both, split], ignore_index=True)
    offers = offers[[*_KB, "k", "t", "line", "over_price", "under_price", "bt", "live"]]
    prev = offers.assign(k=offers["k"] + 1)
    m = offers.merge(prev, on=[*_KB, "k", "line"], how="outer", suffixes=("", "_p"),
                     indicator=True)
    new = m["_merge"] == "left_only"
    kept = m["_merge"] == "both"
    changed = kept & ~(
        ((m["over_price"] == m["over_price_p"]) | (m["over_price"].isna() & m["over_price_p"].isna()))
        & ((m["under_price"] == m["under_price_p"])
           | (m["under_price"].isna() & m["under_price_p"].isna())))
    active_rows = m[new | changed].assign(is_active=True)
    # A line in state k-1 missing from state k was withdrawn at state k's time (if k exists).
    gone = m[m["_merge"] == "right_only"]
    times = w[[*_KB, "k", "t", "bt", "live"]]
    gone = gone[[*_KB, "k", "line", "over_price_p", "under_price_p"]].merge(times, on=[*_KB, "k"])
    gone = gone.rename(columns={"over_price_p": "over_price", "under_price_p": "under_price"})
    gone = gone.assign(is_active=False)
    rows = pd.concat([active_rows[[*_KB, "k", "t", "line", "over_price", "under_price", "bt",
                                   "live", "is_active"]], gone], ignore_index=True)
    rows = rows.sort_values([*_KB, "t", "is_active"], kind="stable").reset_index(drop=True)
    meta = c[["event_id", "commence_time", "home_team", "away_team"]].drop_duplicates("event_id")
    meta = meta.rename(columns={"event_id": "game_id"})
    out = pd.DataFrame({
        "game_id": rows["game_id"].astype(object), "league": league, "player_id": "",
        "market": rows["market"].astype(object), "book": rows["book"].astype(object),
        "line_numeric": rows["line"].astype(float),
        "over_price": rows["over_price"].astype(float),
        "under_price": rows["under_price"].astype(float),
        "is_suspended": False, "is_active": rows["is_active"].astype(bool),
        "is_live": rows["live"].astype(bool),
        "book_last_update": rows["bt"], "fetched_at": rows["t"],
    })
    # Hash each distinct offer once (a price change repeats its offer's key).
    keyed = out[["game_id", "player_id", "market", "book", "line_numeric"]].rename(
        columns={"line_numeric": "line"})
    code, uniq = pd.factorize(pd.MultiIndex.from_frame(keyed.astype({"line": float})))
    firsts = keyed.iloc[np.unique(code, return_index=True)[1]]
    out["prop_offer_id"] = offer_ids(firsts).to_numpy()[code]
    out = out.merge(meta, on="game_id", how="left")
    out["commence_time"] = pd.to_datetime(out["commence_time"], utc=True, format="ISO8601")
    return out.sort_values(["fetched_at", "game_id", "market", "book"], kind="stable")[
        SNAPSHOT_COLUMNS].reset_index(drop=True)


def replay_polls(snapshots: pd.DataFrame) -> Iterator[tuple[pd.Timestamp, pd.DataFrame,
                                                              pd.DataFrame]]:
    """Yield (fetched_at, board of the games touched, changed rows) per fetch time, in order.

    The board holds every offer active at that time in the touched games, in the offer-frame
    spellings (``offer_id``, ``line``), as ingest hands it to ``AnalyticsEngine.update``.
    """
    q = as_quotes(snapshots)
    q = q.sort_values("fetched_at", kind="stable").reset_index(drop=True)
    state: dict[str, dict] = {}
    by_game: dict[str, set[str]] = {}
    for t, batch in q.groupby("fetched_at", sort=True):
        for rec in batch.to_dict("records"):
            oid = rec["offer_id"]
            if rec["is_active"]:
                state[oid] = rec
                by_game.setdefault(rec["game_id"], set()).add(oid)
            else:
                state.pop(oid, None)
                by_game.get(rec["game_id"], set()).discard(oid)
        games = batch["game_id"].unique()
        recs = [state[o] for g in games for o in sorted(by_game.get(g, ()))]
        board = pd.DataFrame.from_records(recs, columns=list(q.columns))
        yield pd.Timestamp(t), board, batch.reset_index(drop=True)
