"""The props view: one row per player-market from the offers of every book (pure functions).

An offer is one book's quote at one line; the dashboard shows one row per (game, player,
market): the best price on each side and where it is, the consensus line, and the model's
view. Everything here is frames in, frames out: no Panel, no I/O.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from propsage.odds import american_or_nan, american_to_decimal, no_vig_two_way

KEY_COLUMNS = ["game_id", "player_id", "market"]
PROP_COLUMNS = [
    "game_id", "league", "player_id", "player_name", "market", "n_books",
    "over_line", "over_price", "over_book", "under_line", "under_price", "under_book",
    "consensus", "fair_line", "edge", "ev", "confidence", "is_live", "is_suspended", "updated",
]
# What the table shows, in order, and the headers it shows them under.
DISPLAY_COLUMNS = {
    "badge": "", "player": "Player", "team": "Team", "market": "Market", "line": "Line",
    "over": "Best over", "under": "Best under", "fair": "Fair", "edge": "Edge",
    "ev": "EV", "conf": "Conf.",
}
HTML_COLUMNS = ("badge", "line", "over", "under", "edge")
SORTS = {
    "Edge": ("edge", False), "EV": ("ev", False), "Confidence": ("confidence", False),
    "Player": ("player_name", True), "Market": ("market", True), "Game": ("game_id", True),
    "Recently updated": ("updated", False),
}
MARKET_LABELS = {
    "h2h": "Moneyline", "spreads": "Spread", "totals": "Total",
    "player_pass_yds": "Pass yds", "player_pass_tds": "Pass TDs", "player_rush_yds": "Rush yds",
    "player_rush_tds": "Rush TDs", "player_receptions": "Receptions",
    "player_reception_yds": "Rec yds", "player_anytime_td": "Anytime TD",
    "player_points": "Points", "player_rebounds": "Rebounds", "player_assists": "Assists",
    "player_threes": "Threes", "player_points_rebounds_assists": "Pts+Reb+Ast",
    "batter_hits": "Hits", "batter_total_bases": "Total bases",
    "pitcher_strikeouts": "Strikeouts",
}
BOOK_LABELS = {
    "draftkings": "DK", "fanduel": "FD", "betmgm": "MGM", "williamhill_us": "CZR",
    "espnbet": "ESPN", "pinnacle": "PIN", "betrivers": "BR", "fanatics": "FAN", "bovada": "BOV",
}
# Markets whose "over" side (the home side) prefers a higher line.
_HOME_POINT_MARKETS = ("spreads",)


def market_label(market: str) -> str:
    """A short human name for an Odds API market key."""
    return MARKET_LABELS.get(market, market.removeprefix("player_").replace("_", " ").title())


def book_label(book: str) -> str:
    """A short name for a bookmaker key."""
    return BOOK_LABELS.get(book, book[:4].upper())


def prop_keys(frame: pd.DataFrame) -> pd.Index:
    """The row key of each offer: 'game|player|market'."""
    cols = [frame[c].astype(object).fillna("").to_numpy(dtype=object) for c in KEY_COLUMNS]
    keys = [f"{g}|{p}|{m}" for g, p, m in zip(*cols, strict=True)]
    return pd.Index(np.array(keys, dtype=object), name="key", dtype=object)


def empty_props() -> pd.DataFrame:
    """A props frame without rows."""
    df = pd.DataFrame({c: pd.Series(dtype=_PROP_DTYPES.get(c, float)) for c in PROP_COLUMNS})
    df.index = pd.Index([], name="key", dtype=object)
    return df


_PROP_DTYPES = {
    "game_id": object, "league": object, "player_id": object, "player_name": object,
    "market": object, "n_books": "int64", "over_book": object, "under_book": object,
    "is_live": bool, "is_suspended": bool, "updated": "datetime64[us, UTC]",
}


def _col(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name in frame:
        return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return np.full(len(frame), np.nan)


def _obj(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name in frame:
        return frame[name].astype(object).fillna("").to_numpy(dtype=object)
    return np.full(len(frame), "", dtype=object)


def _firsts(sorted_codes: np.ndarray) -> np.ndarray:
    """Positions where a new group starts in a sorted code array."""
    first = np.ones(len(sorted_codes), dtype=bool)
    first[1:] = sorted_codes[1:] != sorted_codes[:-1]
    return np.flatnonzero(first)


def _best(codes: np.ndarray, side_line: np.ndarray, dec: np.ndarray, ok: np.ndarray,
          book_rank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(group codes, row positions) of the best quote per group: best line, then best price,
    then the first book by name (so ties never depend on row order)."""
    idx = np.flatnonzero(ok)
    if not len(idx):
        return idx, idx
    order = np.lexsort((book_rank[idx], -dec[idx], np.nan_to_num(side_line[idx], nan=0.0),
                        codes[idx]))
    ranked = idx[order]
    first = _firsts(codes[ranked])
    return codes[ranked[first]], ranked[first]


def _group_median(codes: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Median of the finite values per group code (NaN for a group with none)."""
    out = np.full(n, np.nan)
    ok = np.isfinite(values)
    if not ok.any():
        return out
    c, v = codes[ok], values[ok]
    order = np.lexsort((v, c))
    c, v = c[order], v[order]
    starts = _firsts(c)
    counts = np.diff(np.append(starts, len(c)))
    lo = v[starts + (counts - 1) // 2]
    hi = v[starts + counts // 2]
    out[c[starts]] = (lo + hi) / 2.0
    return out


def summarize(offers: pd.DataFrame) -> pd.DataFrame:
    """One row per player-market from offers (``prop_offers`` rows); inactive offers are ignored.

    Best over = the lowest line (spreads: the highest home point), then the best price, among
    quotes that are not suspended; best under mirrors it. Consensus = median across books of
    each book's main line (its line whose no-vig P(over) is nearest 0.5). Model columns are
    NaN until the pricing stage fills them.
    """
    if offers is None or offers.empty:
        return empty_props()
    df = offers
    if "is_active" in df:
        df = df[df["is_active"].fillna(False).to_numpy(dtype=bool)]
    if df.empty:
        return empty_props()
    keys = prop_keys(df).to_numpy()
    codes, uniq = pd.factorize(keys)
    n = len(uniq)
    line = _col(df, "line_numeric") if "line_numeric" in df else _col(df, "line")
    over = american_or_nan(_col(df, "over_price"))
    under = american_or_nan(_col(df, "under_price"))
    market = _obj(df, "market")
    book = _obj(df, "book")
    susp = df["is_suspended"].fillna(False).to_numpy(dtype=bool)
    live = df["is_live"].fillna(False).to_numpy(dtype=bool) if "is_live" in df \
        else np.zeros(len(df), dtype=bool)
    home_point = np.isin(market, _HOME_POINT_MARKETS)

    ok_over = np.isfinite(over) & ~susp
    ok_under = np.isfinite(under) & ~susp
    dec_over = np.where(ok_over, american_to_decimal(np.where(ok_over, over, 100.0)), np.nan)
    dec_under = np.where(ok_under, american_to_decimal(np.where(ok_under, under, 100.0)), np.nan)

    # Main line per (group, book): its line whose no-vig P(over) is nearest 0.5.
    p_over, _ = no_vig_two_way(over, under)
    dist = np.where(np.isnan(p_over), 9.0, np.abs(p_over - 0.5))
    _, bcodes = np.unique(book.astype(str), return_inverse=True)   # alphabetical book rank
    order = np.lexsort((np.nan_to_num(line, nan=0.0), dist, bcodes, codes))
    pair = codes[order] * (int(bcodes.max()) + 1) + bcodes[order]
    main = order[_firsts(pair)]
    consensus = _group_median(codes[main], line[main], n)
    n_books = np.bincount(codes[main], minlength=n)

    order = np.argsort(codes, kind="stable")
    starts = _firsts(codes[order])
    first = order[starts]

    def red(ufunc: np.ufunc, values: np.ndarray) -> np.ndarray:
        return ufunc.reduceat(values[order], starts)

    out = {
        "game_id": _obj(df, "game_id")[first], "league": _obj(df, "league")[first],
        "player_id": _obj(df, "player_id")[first], "player_name": _obj(df, "player_name")[first],
        "market": market[first], "n_books": n_books.astype("int64"),
    }
    for side, ok, dec, sl in (("over", ok_over, dec_over, np.where(home_point, -line, line)),
                              ("under", ok_under, dec_under, np.where(home_point, line, -line))):
        g, pos = _best(codes, sl, dec, ok, bcodes)
        for col, src in (("line", line), ("price", over if side == "over" else under)):
            arr = np.full(n, np.nan)
            arr[g] = src[pos]
            out[f"{side}_{col}"] = arr
        b = np.full(n, "", dtype=object)
        b[g] = book[pos]
        out[f"{side}_book"] = b
    out["consensus"] = consensus
    fair = _col(df, "fair_line")
    out["fair_line"] = _group_median(codes, fair, n)
    for col, src in (("edge", "edge"), ("ev", "ev"), ("confidence", "confidence_score")):
        vals = _col(df, src)
        out[col] = red(np.fmax, vals) if np.isfinite(vals).any() else np.full(n, np.nan)
    out["is_live"] = red(np.logical_or, live)
    out["is_suspended"] = red(np.logical_and, susp)
    if "last_updated" in df:
        us = pd.to_datetime(df["last_updated"], utc=True).array.as_unit("us").asi8
        out["updated"] = pd.to_datetime(red(np.maximum, us), unit="us", utc=True)
    else:
        out["updated"] = pd.to_datetime(np.full(n, np.nan), utc=True)
    result = pd.DataFrame(out, index=pd.Index(uniq.astype(object), name="key"))
    result["updated"] = pd.to_datetime(result["updated"], utc=True).astype("datetime64[us, UTC]")
    return result[PROP_COLUMNS]


@dataclass(frozen=True, slots=True)
class Filters:
    """What the sidebar asks for; empty strings mean 'all'."""

    league: str = ""
    game_id: str = ""
    market: str = ""
    min_edge: float = 0.0          # percent; 0 = off (rows without an edge still show)
    live_only: bool = False
    player: str = ""


def filter_mask(props: pd.DataFrame, f: Filters) -> np.ndarray:
    """Which rows of a props frame pass the filters."""
    n = len(props)
    mask = np.ones(n, dtype=bool)
    if not n:
        return mask
    if f.league:
        mask &= props["league"].to_numpy(dtype=object) == f.league
    if f.game_id:
        mask &= props["game_id"].to_numpy(dtype=object) == f.game_id
    if f.market:
        mask &= props["market"].to_numpy(dtype=object) == f.market
    if f.live_only:
        mask &= props["is_live"].to_numpy(dtype=bool)
    if f.min_edge and f.min_edge > 0:
        edge = props["edge"].to_numpy(dtype=float)
        mask &= np.nan_to_num(edge, nan=-np.inf) * 100.0 >= f.min_edge
    if f.player.strip():
        needle = f.player.strip().lower()
        names = props["player_name"].astype(str).str.lower()
        mask &= names.str.contains(needle, regex=False).to_numpy(dtype=bool)
    return mask


def sort_keys(props: pd.DataFrame, by: str = "Edge") -> list[str]:
    """Row keys in display order: the chosen column (missing values last), then live first."""
    if props.empty:
        return []
    col, ascending = SORTS.get(by, SORTS["Edge"])
    df = pd.DataFrame({"v": props[col].to_numpy(), "live": ~props["is_live"].to_numpy(dtype=bool),
                       "name": props["player_name"].astype(str).to_numpy(),
                       "market": props["market"].astype(str).to_numpy()}, index=props.index)
    df = df.sort_values(["v", "live", "name", "market"],
                        ascending=[ascending, True, True, True], na_position="last", kind="stable")
    return df.index.tolist()


# -- presentation -----------------------------------------------------------------------------
def _num(v: float, fmt: str = "{:g}") -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else fmt.format(v)


def _american(v: float) -> str:
    if v is None or not np.isfinite(v):
        return "–"
    return f"+{v:.0f}" if v > 0 else f"{v:.0f}"


def _side(kind: str, line: float, price: float, book: object, market: str) -> str:
    if price is None or not np.isfinite(price):
        return '<span style="color:#999">–</span>'
    if market == "h2h" or not np.isfinite(line):
        where = "home " if market == "h2h" and kind == "o" else (
            "away " if market == "h2h" else "")
    elif market == "spreads":
        where = f"{'home' if kind == 'o' else 'away'} {line if kind == 'o' else -line:+g} "
    else:
        where = f"{kind}{line:g} "
    return (f"{where}<b>{_american(price)}</b> "
            f'<span style="color:#888;font-size:11px">{html.escape(book_label(str(book)))}</span>')


def _edge(v: float) -> str:
    if v is None or not np.isfinite(v):
        return '<span style="color:#999">–</span>'
    color = "#1a7f37" if v > 0 else ("#cf222e" if v < 0 else "#666")
    return f'<span style="color:{color};font-weight:600">{v * 100:+.1f}%</span>'


def _badge(live: bool, suspended: bool, stale: bool) -> str:
    parts = []
    if live:
        parts.append('<span style="background:#d62728;color:#fff;border-radius:3px;'
                     'padding:0 4px;font-size:10px;font-weight:700">LIVE</span>')
    if suspended:
        parts.append('<span style="background:#999;color:#fff;border-radius:3px;'
                     'padding:0 4px;font-size:10px">SUSP</span>')
    if stale:
        parts.append('<span style="background:#bf8700;color:#fff;border-radius:3px;'
                     'padding:0 4px;font-size:10px" title="provider down: last known data">'
                     'STALE</span>')
    return " ".join(parts)


def _line(v: float, move: int) -> str:
    text = _num(v)
    if move > 0:
        return (f'<span style="background:#dafbe1;padding:0 3px;border-radius:3px">{text} '
                f'<span style="color:#1a7f37">▲</span></span>')
    if move < 0:
        return (f'<span style="background:#ffebe9;padding:0 3px;border-radius:3px">{text} '
                f'<span style="color:#cf222e">▼</span></span>')
    return text


def present(props: pd.DataFrame, *, teams: dict[str, str] | None = None,
            games: dict[str, str] | None = None, moves: dict[str, int] | None = None,
            stale_games: set[str] | frozenset[str] = frozenset()) -> pd.DataFrame:
    """The table's rows (strings, some HTML) for props rows, in the given order.

    ``teams``: player_id -> team; ``games``: game_id -> 'Away @ Home' (the name shown for
    game-level markets); ``moves``: key -> +1/-1 for a consensus line that just moved.
    """
    teams, games, moves = teams or {}, games or {}, moves or {}
    rows = []
    for key, r in zip(props.index, props.itertuples(index=False), strict=True):
        game_market = not r.player_id
        rows.append({
            "badge": _badge(bool(r.is_live), bool(r.is_suspended), r.game_id in stale_games),
            "player": games.get(r.game_id, r.game_id) if game_market else r.player_name,
            "team": "" if game_market else teams.get(r.player_id, ""),
            "market": market_label(r.market),
            "line": _line(r.consensus, moves.get(key, 0)),
            "over": _side("o", r.over_line, r.over_price, r.over_book, r.market),
            "under": _side("u", r.under_line, r.under_price, r.under_book, r.market),
            "fair": _num(r.fair_line, "{:.1f}"),
            "edge": _edge(r.edge),
            "ev": _num(r.ev * 100 if np.isfinite(r.ev) else np.nan, "{:+.1f}%"),
            "conf": _num(r.confidence, "{:.2f}"),
        })
    return pd.DataFrame(rows, columns=list(DISPLAY_COLUMNS), dtype=object)


def line_moves(before: pd.DataFrame, after: pd.DataFrame) -> dict[str, int]:
    """+1 / -1 per key whose consensus line went up / down between two props frames."""
    common = after.index.intersection(before.index)
    if not len(common):
        return {}
    old = before.loc[common, "consensus"].to_numpy(dtype=float)
    new = after.loc[common, "consensus"].to_numpy(dtype=float)
    ok = np.isfinite(old) & np.isfinite(new) & (old != new)
    return {k: int(np.sign(d)) for k, d in zip(common[ok], (new - old)[ok], strict=True)}
