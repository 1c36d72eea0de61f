"""Point-in-time backtests: at each decision time, the board exactly as the store knew it then.

For every game in scope and every decision time t = start - d (d in ``strategy.decide_before``)
each offer's last snapshot with ``fetched_at <= t`` is found with one DuckDB ``ASOF JOIN``;
withdrawn and suspended quotes drop out. Nothing fetched after t reaches the decision: the
model's fair probability comes either from that same board (the other books' consensus) or
from the model view stored with that very snapshot. The closing board (each offer's last
snapshot strictly before the start) and the results are read separately, only to grade and to
measure closing-line value after the bets are chosen.

Sources: a ``Store``, a DuckDB file path (opened read-only), a directory of exported Parquet
(``propsage.research.connect``) or an open DuckDB connection with tables/views
``odds_snapshots``, ``games_live`` (id, league, start_time) and ``results``.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from propsage.backtest.clv import attach_clv
from propsage.backtest.consensus import consensus_prob
from propsage.backtest.grading import attach_outcomes
from propsage.backtest.strategy import Strategy, load_strategy
from propsage.odds import american_to_decimal
from propsage.pricing.market import no_vig

PM = ["game_id", "player_id", "market"]
BOARD_COLUMNS = [
    "decision", "decided_at", "start_time", "game_id", "league", "market", "book",
    "line_numeric", "over_price", "under_price", "fair_over_prob", "fetched_at", "gkey",
    "pmkey", "bkey", "mkey", "rid",
]
CLOSE_DECISION = -1      # the 'decision' index of closing-board rows


@contextlib.contextmanager
def open_source(source: Any) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection onto a Store, a .duckdb file, a Parquet export dir, or a connection."""
    from propsage.store import Store

    if isinstance(source, duckdb.DuckDBPyConnection):
        yield source
        return
    if isinstance(source, Store):
        cur = source.cursor()
        try:
            yield cur
        finally:
            cur.close()
        return
    path = Path(source)
    if path.is_dir():
        from propsage.research import connect

        con = connect(path, live_db=None)
    else:
        if not path.exists():
            raise FileNotFoundError(f"no DuckDB file at {path}")
        con = duckdb.connect(str(path), read_only=True)
        con.execute("SET TimeZone = 'UTC'")
    try:
        yield con
    finally:
        con.close()


def games_in_scope(con: duckdb.DuckDBPyConnection, strategy: Strategy) -> pd.DataFrame:
    """Games (game_id, league, start_time) the strategy may bet, by start time."""
    where, params = [], []
    if strategy.leagues:
        where.append("list_contains(?, league)")
        params.append(list(strategy.leagues))
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    df = con.execute(f"SELECT id AS game_id, league, start_time FROM games_live {clause} "
                     "ORDER BY start_time, id", params).df()
    df["start_time"] = pd.to_datetime(df["start_time"], utc=True)
    return df


def snapshot_table(con: duckdb.DuckDBPyConnection, games: pd.DataFrame) -> str:
    """The table to read snapshots from: ``odds_snapshots`` itself when it is a base table, else
    (a view, e.g. over Parquet) a temporary copy of the games' rows, so rows have a ``rowid``."""
    kind = con.execute("SELECT table_type FROM information_schema.tables "
                       "WHERE table_name = 'odds_snapshots' AND table_catalog = "
                       "current_database() AND table_schema = current_schema()").fetchall()
    if kind and kind[0][0] == "BASE TABLE":
        return "odds_snapshots"
    con.register("bt_scope", games[["game_id"]].astype(object))
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE bt_snapshots AS SELECT s.* FROM odds_snapshots s "
                    "SEMI JOIN bt_scope c ON s.game_id = c.game_id")
    finally:
        con.unregister("bt_scope")
    return "bt_snapshots"


def read_boards(con: duckdb.DuckDBPyConnection, games: pd.DataFrame,
                offsets: list[pd.Timedelta], markets: tuple[str, ...] = (), *,
                table: str | None = None) -> pd.DataFrame:
    """Each offer's last active, unsuspended snapshot with fetched_at <= start - offset.

    One row per (offer, offset) with ``decision`` = the offset's index and ``decided_at`` =
    start - offset, found by an ``ASOF JOIN`` of the (offer, decision time) grid on the
    snapshots (an offer first seen after ``decided_at`` has no row). Rows come decision by
    decision, in a fixed order within each. Text columns come back as categoricals; ``rid`` is
    the snapshot's rowid (``offer_text`` reads its offer id and player).
    """
    table = table or snapshot_table(con, games)
    g = games[["game_id", "league", "start_time"]].reset_index(drop=True).copy()
    g["game_id"] = g["game_id"].astype(object)
    g["league"] = g["league"].astype(object)
    g["gi"] = np.arange(len(g), dtype=np.int64)
    offs = pd.DataFrame({"decision": np.arange(len(offsets), dtype=np.int64),
                         "us": [int(o / pd.Timedelta(microseconds=1)) for o in offsets]})
    market_filter = "WHERE list_contains($markets, s.market)" if markets else ""
    # The ASOF JOIN runs on a slim, pre-sorted (integer offer key, time) relation and returns
    # rowids; the full rows are fetched by rowid after. Much faster than carrying every column
    # through the join's sort.
    # Steps as temp tables (one CTE statement ran slower): the slim, pre-sorted (integer offer
    # key, time, rowid) relation; the (offer, decision time) grid; their ASOF JOIN, whose
    # rowids then fetch the full rows. Sorting only the slim relation keeps the join cheap.
    build = [
        f"""CREATE OR REPLACE TEMP TABLE bt_sn AS
            SELECT hash(s.prop_offer_id) AS ok, c.gi, s.fetched_at, s.rowid AS rid
            FROM {table} s JOIN bt_games c ON s.game_id = c.game_id {market_filter}
            ORDER BY ok, fetched_at""",
        """CREATE OR REPLACE TEMP TABLE bt_grid AS
            SELECT o.ok, o.gi, d.decision, c.start_time - to_microseconds(d.us) AS decided_at
            FROM (SELECT ok, any_value(gi) AS gi FROM bt_sn GROUP BY ok) o
            JOIN bt_games c ON o.gi = c.gi CROSS JOIN bt_offsets d""",
        """CREATE OR REPLACE TEMP TABLE bt_hit AS
            SELECT g.gi, g.decision, sn.rid
            FROM bt_grid g ASOF JOIN bt_sn sn ON g.ok = sn.ok AND g.decided_at >= sn.fetched_at""",
        f"""CREATE OR REPLACE TEMP TABLE bt_board AS
            SELECT h.decision, h.gi, h.rid, s.market, s.book, s.line_numeric, s.over_price,
                   s.under_price, s.fair_over_prob, epoch_us(s.fetched_at) AS fetched_us,
                   hash(s.game_id, s.player_id, s.market) AS pmkey, hash(s.book) AS bkey,
                   hash(s.market, c.league) AS mkey
            FROM bt_hit h JOIN {table} s ON s.rowid = h.rid JOIN bt_games c ON h.gi = c.gi
            WHERE s.is_active AND NOT s.is_suspended""",
        "DROP TABLE temp.bt_sn", "DROP TABLE temp.bt_grid", "DROP TABLE temp.bt_hit",
    ]
    con.register("bt_games", g)
    con.register("bt_offsets", offs)
    try:
        for i, sql in enumerate(build):
            con.execute(sql, {"markets": list(markets)} if markets and i == 0 else None)
        # Arrow -> pandas converts the chunked columns in parallel: faster than per column.
        df = con.sql("SELECT * EXCLUDE (market, book) FROM bt_board").to_arrow_table().to_pandas()
        books = con.sql("SELECT DISTINCT bkey AS k, book AS v FROM bt_board").df()
        mk = con.sql("SELECT DISTINCT mkey AS k, market AS v FROM bt_board").df()
    finally:
        con.unregister("bt_games")
        con.unregister("bt_offsets")
    decision = df["decision"].to_numpy(np.int64)
    pmkey = df["pmkey"].to_numpy(np.uint64)
    bkey = df["bkey"].to_numpy(np.uint64)
    line = df["line_numeric"].to_numpy(float)
    gkey = mix_keys(pmkey, decision.astype(np.uint64))
    # A fixed row order (by decision, player-market, book, line) makes every float sum
    # downstream reproducible, whatever else the store holds.
    # Decision-major, so each decision's board (and the close) is a contiguous slice.
    within = mix_keys(gkey, bkey, np.nan_to_num(line, nan=-1e9).view(np.uint64))
    order = np.argsort((decision.astype(np.uint64) << np.uint64(58))
                       | (within >> np.uint64(6)), kind="stable")

    def arr(name: str, dtype: Any) -> np.ndarray:
        return df[name].to_numpy(dtype)[order]

    gi = arr("gi", np.int64)
    decision = decision[order]
    start = g["start_time"].to_numpy("datetime64[us]")
    us = offs["us"].to_numpy("timedelta64[us]")
    lg_codes, lg_names = pd.factorize(g["league"].astype(object))
    mkey = arr("mkey", np.uint64)
    out = pd.DataFrame({
        "decision": decision,
        "decided_at": pd.DatetimeIndex(start[gi] - us[decision]).tz_localize("UTC"),
        "start_time": pd.DatetimeIndex(start[gi]).tz_localize("UTC"),
        "game_id": pd.Categorical.from_codes(gi, pd.Index(g["game_id"])),
        "league": pd.Categorical.from_codes(lg_codes[gi], pd.Index(lg_names)),
        "market": _decode(mkey, mk),
        "book": _decode(bkey[order], books),
        "line_numeric": line[order],
        "over_price": arr("over_price", float),
        "under_price": arr("under_price", float),
        "fair_over_prob": arr("fair_over_prob", float),
        "fetched_at": pd.DatetimeIndex(arr("fetched_us", np.int64).view("datetime64[us]"))
        .tz_localize("UTC"),
        "gkey": gkey[order], "pmkey": pmkey[order], "bkey": bkey[order], "mkey": mkey,
        "rid": arr("rid", np.int64),
    }, copy=False)      # fresh arrays: no need to copy them into consolidated blocks
    out.attrs["snapshot_table"] = table
    return out


def mix_keys(*keys: np.ndarray) -> np.ndarray:
    """One uint64 key from several (a multiplicative hash; collisions ~ n^2 / 2^64)."""
    out = np.zeros(len(keys[0]), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in keys:
            out = (out ^ k.astype(np.uint64)) * np.uint64(0x9E3779B97F4A7C15)
            out ^= out >> np.uint64(29)
    return out


def _decode(keys: np.ndarray, lookup: pd.DataFrame) -> pd.Categorical:
    """Text of hashed keys as a categorical (several keys may share one text)."""
    text_codes, texts = pd.factorize(lookup["v"].astype(object))
    at = pd.Index(lookup["k"].to_numpy(np.uint64)).get_indexer(keys)
    return pd.Categorical.from_codes(np.where(at >= 0, text_codes[at], -1),
                                     pd.Index(texts, dtype=object))


def offer_text(con: duckdb.DuckDBPyConnection, table: str, rids: np.ndarray) -> pd.DataFrame:
    """(rid, prop_offer_id, player_id) of snapshot rowids."""
    con.register("bt_rids", pd.DataFrame({"rid": np.asarray(rids, dtype=np.int64)}))
    try:
        return con.sql(f"SELECT s.rowid AS rid, s.prop_offer_id, s.player_id FROM {table} s "
                       "SEMI JOIN bt_rids r ON s.rowid = r.rid").df()
    finally:
        con.unregister("bt_rids")


def read_results(con: duckdb.DuckDBPyConnection, games: pd.DataFrame) -> pd.DataFrame:
    """Stored results (game_id, player_id, market, value) of the given games."""
    con.register("bt_games", games[["game_id"]].astype(object))
    try:
        return con.sql(
            "SELECT r.game_id, r.player_id, r.market, r.value, "
            "hash(r.game_id, r.player_id, r.market) AS pmkey FROM results r "
            "SEMI JOIN bt_games c ON r.game_id = c.game_id").df()
    finally:
        con.unregister("bt_games")


def screened(board: pd.DataFrame) -> np.ndarray:
    """Per row: True unless ``propsage.analytics.screen`` flags the quote on its decision board."""
    from propsage.analytics import screen

    usable = np.ones(len(board), dtype=bool)
    for _, idx in board.groupby("decision", sort=True).indices.items():
        part = board.iloc[idx]
        frame = pd.DataFrame({
            "game_id": part["game_id"].astype(object).to_numpy(),
            "player_id": part["pmkey"].to_numpy(),       # any key of the player-market will do
            "market": part["market"].astype(object).to_numpy(),
            "book": part["book"].astype(object).to_numpy(),
            "league": part["league"].astype(object).to_numpy(),
            "line": part["line_numeric"].to_numpy(float),
            "over_price": part["over_price"].to_numpy(float),
            "under_price": part["under_price"].to_numpy(float),
            "fetched_at": part["fetched_at"].to_numpy(), "_row": idx})
        q = screen(frame, now=part["decided_at"].iloc[0]).quotes
        usable[q["_row"].to_numpy(np.int64)] = q["usable"].to_numpy(bool)
    return usable


def price_board(board: pd.DataFrame, strategy: Strategy) -> pd.DataFrame:
    """Add the model's fair P(over) (``p_fair``), its book count and the quote's own no-vig.

    Quotes older than ``strategy.max_quote_age`` and, with ``strategy.screen``, those the
    analytics screen flags are dropped first.
    """
    if strategy.max_quote_age is not None:
        board = board[(board["decided_at"] - board["fetched_at"]) <= strategy.max_quote_age]
    if strategy.screen and len(board):
        board = board[screened(board)]
    p_own, _ = no_vig(board, strategy.devig)
    out = board.assign(p_book=p_own)
    if strategy.model == "consensus":
        p, n = consensus_prob(out, ["decision", *PM], method=strategy.devig, exclude_own=True,
                              books=strategy.consensus_books, group_key="gkey")
        out["p_fair"], out["n_books"] = p, n
    else:
        out["p_fair"] = out["fair_over_prob"].astype(float)
        out["n_books"] = np.nan
    return out


def candidates(priced: pd.DataFrame, strategy: Strategy) -> dict[str, np.ndarray]:
    """Arrays over (row, side) pairs passing the strategy's filters: row, over (bool), price,
    p_model (fair prob of the side), decimal, ev."""
    p = priced["p_fair"].to_numpy(float)
    keep = ~np.isnan(p)
    if strategy.model == "consensus":
        keep &= priced["n_books"].to_numpy(float) >= strategy.min_books
    if strategy.books:
        keep &= priced["book"].isin(list(strategy.books)).to_numpy()
    parts = []
    for side in strategy.sides:
        over = side == "over"
        price = priced["over_price" if over else "under_price"].to_numpy(float)
        rows = np.flatnonzero(keep & ~np.isnan(price))
        p_side = p[rows] if over else 1.0 - p[rows]
        dec = np.asarray(american_to_decimal(price[rows]), dtype=float)
        ev = p_side * dec - 1.0
        ok = (ev >= strategy.min_ev) & (ev <= strategy.max_ev)
        parts.append({"row": rows[ok], "over": np.full(int(ok.sum()), over),
                      "price": price[rows][ok], "p_model": p_side[ok], "decimal": dec[ok],
                      "ev": ev[ok]})
    return {k: np.concatenate([part[k] for part in parts]) for k in parts[0]} if parts else {}


def select_bets(priced: pd.DataFrame, strategy: Strategy) -> pd.DataFrame:
    """The strategy's bets from priced decision boards (never from anything later).

    Per player-market (or per offer and side) the bet is the earliest decision's candidate
    with the highest EV (ties: the first in the board's fixed row order).
    """
    c = candidates(priced, strategy)
    if not c or len(c["row"]) == 0:
        return priced.iloc[:0].assign(side="", price=np.nan, p_model=np.nan, decimal=np.nan,
                                      ev=np.nan)
    rows = c["row"]
    decision = priced["decision"].to_numpy(np.int64)[rows]
    pmkey = priced["pmkey"].to_numpy(np.uint64)[rows]
    # Smaller is better: an earlier decision first, then a higher EV.
    score = decision * 1000.0 - c["ev"]
    pick = np.arange(len(rows))
    if strategy.one_bet_per != "none":
        key = pmkey if strategy.one_bet_per == "player_market" else mix_keys(
            pmkey, priced["bkey"].to_numpy(np.uint64)[rows],
            np.nan_to_num(priced["line_numeric"].to_numpy(float)[rows], nan=-1e9)
            .view(np.uint64), c["over"].astype(np.uint64))
        pick = pd.Series(score).groupby(key, sort=False).idxmin().to_numpy()
    pick = pick[np.lexsort((c["ev"][pick] * -1, decision[pick]))]
    bets = priced.iloc[rows[pick]].assign(
        side=np.where(c["over"][pick], "over", "under"), price=c["price"][pick],
        p_model=c["p_model"][pick], decimal=c["decimal"][pick], ev=c["ev"][pick])
    return bets.reset_index(drop=True)


@dataclass(slots=True)
class BacktestResult:
    """Bets (graded, with CLV and stakes), forecasts for calibration, and run facts."""

    strategy: Strategy
    bets: pd.DataFrame
    forecasts: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)

    def summary(self, reps: int = 2000) -> dict[str, Any]:
        """Headline metrics (see ``propsage.backtest.metrics.summarize``)."""
        from propsage.backtest.metrics import summarize

        return summarize(self, reps=reps)


def _chunks(games: pd.DataFrame, size: int) -> list[pd.DataFrame]:
    n = max(1, math.ceil(len(games) / size))
    return [games.iloc[i * size:(i + 1) * size] for i in range(n)]


def _forecasts(priced: pd.DataFrame) -> pd.DataFrame:
    """Model vs the quote's own no-vig P(over) at the last decision time, one row per offer."""
    if priced.empty:
        return priced.assign(p_model=np.nan, p_market=np.nan)
    d = priced["decision"].to_numpy()
    last = priced.iloc[int(np.searchsorted(d, d.max())):]       # decision-major rows
    cols = ["game_id", "league", "market", "book", "line_numeric", "decided_at", "start_time",
            "pmkey"]
    f = last[cols].copy()
    f["p_model"] = last["p_fair"].to_numpy(float)
    f["p_market"] = last["p_book"].to_numpy(float)
    return f[f["p_model"].notna() & f["p_market"].notna()].reset_index(drop=True)


def run_backtest(source: Any, strategy: Strategy | str | dict | Path, *,
                 chunk_games: int = 2500, progress: bool = False) -> BacktestResult:
    """Run a strategy over a source's stored snapshots; bets graded, with CLV and stakes.

    Games are processed ``chunk_games`` at a time (bounded memory; a tqdm bar with
    ``progress=True``).
    """
    from propsage.backtest.metrics import stake_bets

    strategy = load_strategy(strategy)
    offsets = list(strategy.decide_before)
    with open_source(source) as con:
        games = games_in_scope(con, strategy)
        table = snapshot_table(con, games)
        chunks = _chunks(games, chunk_games)
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(games), unit="game", desc=f"backtest {strategy.name}")

        def stage(name: str) -> None:
            if bar is not None:
                bar.set_postfix_str(name)

        bets_parts, fc_parts, n_board = [], [], 0
        for chunk in chunks:
            if chunk.empty:
                continue
            stage("boards")
            boards = read_boards(con, chunk, [*offsets, pd.Timedelta(microseconds=1)],
                                 strategy.markets, table=table)
            # Rows are decision-major: the close (last decision) is the tail slice.
            n_decide = int(np.searchsorted(boards["decision"].to_numpy(), len(offsets)))
            close = boards.iloc[n_decide:].assign(decision=CLOSE_DECISION)
            if strategy.max_quote_age is not None:
                close = close[(close["start_time"] - close["fetched_at"])
                              <= strategy.max_quote_age]
            decide = boards.iloc[:n_decide]
            n_board += len(decide)
            stage("pricing")
            priced = price_board(decide, strategy)
            bets = select_bets(priced, strategy)
            results = read_results(con, chunk)
            stage("grading, CLV")
            if len(bets):
                bets = bets.merge(offer_text(con, table, bets["rid"].to_numpy()), on="rid",
                                  how="left")
                bets = attach_outcomes(bets, results)
                # Only the bets' player-markets need a closing consensus.
                close = close[np.isin(close["pmkey"].to_numpy(), bets["pmkey"].to_numpy())]
                bets = attach_clv(bets, close, method=strategy.devig,
                                  books=strategy.consensus_books)
                bets_parts.append(bets)
            fc = _forecasts(priced)
            if len(fc):
                fc_parts.append(attach_outcomes(fc.assign(side="over"), results))
            if bar is not None:
                bar.update(len(chunk))
        if bar is not None:
            bar.close()
        for temp in ("bt_board", "bt_snapshots"):
            con.execute(f"DROP TABLE IF EXISTS temp.{temp}")
    bets = pd.concat(bets_parts, ignore_index=True) if bets_parts else _empty_bets()
    bets = bets.sort_values(["decided_at", "game_id"], kind="stable").reset_index(drop=True)
    bets = stake_bets(bets, strategy)
    forecasts = pd.concat(fc_parts, ignore_index=True) if fc_parts else pd.DataFrame()
    info = {"games": len(games), "board_rows": n_board, "bets": len(bets),
            "decision_offsets_min": [o.total_seconds() / 60 for o in offsets]}
    return BacktestResult(strategy=strategy, bets=bets, forecasts=forecasts, info=info)


def _empty_bets() -> pd.DataFrame:
    times = ("decided_at", "start_time", "fetched_at")
    text = ("prop_offer_id", "game_id", "league", "player_id", "market", "book", "side",
            "outcome")
    cols = [*BOARD_COLUMNS, "prop_offer_id", "player_id", "p_book", "p_fair", "n_books", "side",
            "price", "p_model", "decimal",
            "ev", "value", "outcome", "won", "p_close", "close_books", "clv_ev", "beat_close",
            "line_close", "line_moved", "moved_against", "p_close_same_line",
            "clv_ev_same_line"]
    return pd.DataFrame({c: pd.Series(dtype="datetime64[us, UTC]" if c in times else
                                      object if c in text else
                                      bool if c in ("line_moved", "moved_against") else float)
                         for c in cols})
