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
from collections.abc import Callable, Iterator
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
    "decision", "decided_at", "start_time", "prop_offer_id", "game_id", "league", "player_id",
    "market", "book", "line_numeric", "over_price", "under_price", "fair_over_prob",
    "fetched_at", "gkey", "pmkey", "bkey", "mkey",
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


def read_boards(con: duckdb.DuckDBPyConnection, games: pd.DataFrame,
                offsets: list[pd.Timedelta], markets: tuple[str, ...] = ()) -> pd.DataFrame:
    """Each offer's last active, unsuspended snapshot with fetched_at <= start - offset.

    Returns one row per (offer, offset) with ``decision`` = the offset's index and
    ``decided_at`` = start - offset (an ``ASOF JOIN``; an offer first seen after ``decided_at``
    has no row).
    """
    offs = pd.DataFrame({"decision": np.arange(len(offsets), dtype=np.int64),
                         "us": [int(o / pd.Timedelta(microseconds=1)) for o in offsets]})
    g = games[["game_id", "league", "start_time"]].copy()
    g["game_id"] = g["game_id"].astype(object)
    g["league"] = g["league"].astype(object)
    market_filter = "AND list_contains($markets, s.market)" if markets else ""
    sql = f"""
        WITH d AS (
            SELECT c.game_id, c.league, c.start_time, o.decision,
                   c.start_time - to_microseconds(o.us) AS decided_at
            FROM bt_games c CROSS JOIN bt_offsets o),
        snaps AS (
            SELECT s.* FROM odds_snapshots s SEMI JOIN bt_games c ON s.game_id = c.game_id
            WHERE TRUE {market_filter}),
        offers AS (SELECT DISTINCT prop_offer_id, game_id FROM snaps),
        grid AS (SELECT o.prop_offer_id, d.* FROM offers o JOIN d USING (game_id))
        SELECT grid.decision, grid.decided_at, grid.start_time, grid.prop_offer_id,
               grid.game_id, coalesce(grid.league, s.league) AS league, s.player_id, s.market,
               s.book, s.line_numeric, s.over_price, s.under_price, s.fair_over_prob,
               s.fetched_at,
               hash(grid.decision, grid.game_id, s.player_id, s.market) AS gkey,
               hash(grid.game_id, s.player_id, s.market) AS pmkey, hash(s.book) AS bkey,
               hash(s.market, coalesce(grid.league, s.league)) AS mkey
        FROM grid ASOF JOIN snaps s
          ON grid.prop_offer_id = s.prop_offer_id AND grid.decided_at >= s.fetched_at
        WHERE s.is_active AND NOT s.is_suspended
        ORDER BY grid.game_id, grid.decision, s.player_id, s.market, s.book, s.line_numeric
    """
    con.register("bt_games", g)
    con.register("bt_offsets", offs)
    try:
        params = {"markets": list(markets)} if markets else {}
        df = _frame(con.sql(sql, params=params) if params else con.sql(sql))
    finally:
        con.unregister("bt_games")
        con.unregister("bt_offsets")
    return df[BOARD_COLUMNS]


def _frame(relation: duckdb.DuckDBPyRelation) -> pd.DataFrame:
    """A query result as pandas through Arrow (strings stay Arrow-backed: no Python objects)."""
    df = relation.to_arrow_table().to_pandas()
    for col in df.columns:
        if pd.api.types.is_datetime64_any_dtype(df[col]) and df[col].dt.tz is None:
            df[col] = df[col].dt.tz_localize("UTC")
    return df


def read_results(con: duckdb.DuckDBPyConnection, games: pd.DataFrame) -> pd.DataFrame:
    """Stored results (game_id, player_id, market, value) of the given games."""
    con.register("bt_games", games[["game_id"]].astype(object))
    try:
        return _frame(con.sql(
            "SELECT r.game_id, r.player_id, r.market, r.value, "
            "hash(r.game_id, r.player_id, r.market) AS pmkey FROM results r "
            "SEMI JOIN bt_games c ON r.game_id = c.game_id"))
    finally:
        con.unregister("bt_games")


def price_board(board: pd.DataFrame, strategy: Strategy) -> pd.DataFrame:
    """Add the model's fair P(over) (``p_fair``), its book count and the quote's own no-vig."""
    out = board.copy()
    p_own, _ = no_vig(out, strategy.devig)
    out["p_book"] = p_own
    if strategy.model == "consensus":
        p, n = consensus_prob(out, ["decision", *PM], method=strategy.devig, exclude_own=True,
                              books=strategy.consensus_books, group_key="gkey")
        out["p_fair"], out["n_books"] = p, n
    else:
        out["p_fair"] = out["fair_over_prob"].astype(float)
        out["n_books"] = np.nan
    return out


def candidates(priced: pd.DataFrame, strategy: Strategy) -> pd.DataFrame:
    """Rows x sides passing the strategy's filters, with price, decimal, fair prob and EV."""
    parts = []
    p = priced["p_fair"].to_numpy(float)
    keep = ~np.isnan(p)
    if strategy.model == "consensus":
        keep &= priced["n_books"].to_numpy(float) >= strategy.min_books
    if strategy.books:
        keep &= priced["book"].isin(list(strategy.books)).to_numpy()
    for side in strategy.sides:
        price = priced["over_price" if side == "over" else "under_price"].to_numpy(float)
        p_side = p if side == "over" else 1.0 - p
        ok = keep & ~np.isnan(price)
        dec = np.full(len(price), np.nan)
        dec[ok] = american_to_decimal(price[ok])
        ev = p_side * dec - 1.0
        with np.errstate(invalid="ignore"):
            ok &= (ev >= strategy.min_ev) & (ev <= strategy.max_ev)
        idx = np.flatnonzero(ok)
        parts.append(priced.iloc[idx].assign(side=side, price=price[idx], p_model=p_side[idx],
                                             decimal=dec[idx], ev=ev[idx]))
    return pd.concat(parts, ignore_index=True)


def select_bets(priced: pd.DataFrame, strategy: Strategy) -> pd.DataFrame:
    """The strategy's bets from priced decision boards (never from anything later)."""
    bets = candidates(priced, strategy).sort_values(
        ["decided_at", "ev", "book", "line_numeric"], ascending=[True, False, True, True],
        kind="stable")
    if strategy.one_bet_per == "player_market":
        bets = bets.drop_duplicates("pmkey", keep="first")
    elif strategy.one_bet_per == "offer":
        bets = bets.drop_duplicates(["prop_offer_id", "side"], keep="first")
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
    last = priced[priced["decision"] == priced["decision"].max()]
    cols = ["game_id", "league", "player_id", "market", "book", "line_numeric", "decided_at",
            "start_time", "pmkey"]
    f = last[cols].copy()
    f["p_model"] = last["p_fair"].to_numpy(float)
    f["p_market"] = last["p_book"].to_numpy(float)
    return f[f["p_model"].notna() & f["p_market"].notna()].reset_index(drop=True)


def run_backtest(source: Any, strategy: Strategy | str | dict | Path, *,
                 chunk_games: int = 400, progress: bool | Callable | None = None
                 ) -> BacktestResult:
    """Run a strategy over a source's stored snapshots; bets graded, with CLV and stakes."""
    from propsage.backtest.metrics import stake_bets

    strategy = load_strategy(strategy)
    offsets = list(strategy.decide_before)
    with open_source(source) as con:
        games = games_in_scope(con, strategy)
        chunks = _chunks(games, chunk_games)
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(games), unit="game", desc=f"backtest {strategy.name}",
                       disable=progress is None)
        bets_parts, fc_parts, n_board = [], [], 0
        for chunk in chunks:
            if chunk.empty:
                continue
            boards = read_boards(con, chunk, [*offsets, pd.Timedelta(microseconds=1)],
                                 strategy.markets)
            is_close = boards["decision"] == len(offsets)
            close = boards[is_close].assign(decision=CLOSE_DECISION)
            decide = boards[~is_close]
            n_board += len(decide)
            priced = price_board(decide, strategy)
            bets = select_bets(priced, strategy)
            results = read_results(con, chunk)
            if len(bets):
                bets = attach_outcomes(bets, results)
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
    cols = [*BOARD_COLUMNS, "p_book", "p_fair", "n_books", "side", "price", "p_model", "decimal",
            "ev", "value", "outcome", "won", "p_close", "close_books", "clv_ev", "beat_close",
            "line_close", "line_moved", "moved_against", "p_close_same_line",
            "clv_ev_same_line"]
    return pd.DataFrame({c: pd.Series(dtype="datetime64[us, UTC]" if c in times else
                                      object if c in text else
                                      bool if c in ("line_moved", "moved_against") else float)
                         for c in cols})
