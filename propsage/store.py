"""The DuckDB store: games, current offers, append-only snapshots, movements, results.

One ``Store`` per process owns the file (DuckDB allows one writer). Writes are one bulk,
transactional statement set per poll; reads use their own cursor so the app's sessions can
read while ingest writes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from propsage.changes import (
    GROUP,
    STATE_COLUMNS,
    ChangeSet,
    detect_changes,
    empty_state,
    group_keys,
    main_lines,
    movements,
)
from propsage.domain import Game
from propsage.validate import split_valid

log = logging.getLogger(__name__)

# Model columns ingest may add to an offer frame (from propsage.pricing); NULL when absent.
MODEL_COLUMNS = ("implied_prob", "fair_line", "fair_over_prob", "edge", "ev", "kelly",
                 "confidence_score")
OFFER_TABLE_COLUMNS = (
    "id", "game_id", "league", "player_id", "player_name", "market", "book", "line_numeric",
    "over_price", "under_price", "is_live", "is_suspended", "is_active", *MODEL_COLUMNS,
    "book_last_update", "fetched_at", "last_updated", "created_at",
)
IDENTITY_COLUMNS = ("id", "game_id", "league", "player_id", "player_name", "market", "book",
                    "line_numeric", "created_at")
SNAPSHOT_COLUMNS = (
    "prop_offer_id", "game_id", "league", "player_id", "market", "book", "line_numeric",
    "over_price", "under_price", "is_suspended", "is_active", "implied_prob", "fair_line",
    "fair_over_prob", "edge", "book_last_update", "fetched_at",
)


def _migrations() -> list[tuple[int, str]]:
    files = resources.files("propsage") / "migrations"
    out = []
    for f in files.iterdir():
        if f.name.endswith(".sql"):
            out.append((int(f.name.split("_", 1)[0]), f.read_text()))
    return sorted(out)


def _arrow(df: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(df, preserve_index=False)


class Store:
    """A PropSage DuckDB file (or ``:memory:``), migrated on open."""

    def __init__(self, path: str | Path = ":memory:", *, read_only: bool = False):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._con = duckdb.connect(self.path, read_only=read_only)
        self._con.execute("SET TimeZone = 'UTC'")
        self._lock = threading.RLock()
        self.read_only = read_only
        if not read_only:
            self._migrate()
        self._state = self._load_state()

    # -- lifecycle -------------------------------------------------------------------------
    def _migrate(self) -> None:
        with self._lock:
            self._con.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                "applied_at TIMESTAMPTZ DEFAULT now())"
            )
            done = {r[0] for r in self._con.execute("SELECT version FROM schema_version").fetchall()}
            for version, sql in _migrations():
                if version in done:
                    continue
                self._con.execute("BEGIN")
                try:
                    self._con.execute(sql)
                    self._con.execute("INSERT INTO schema_version (version) VALUES (?)", [version])
                    self._con.execute("COMMIT")
                except Exception:
                    self._con.execute("ROLLBACK")
                    raise
                log.info("store: applied migration %03d", version)

    @property
    def schema_version(self) -> int:
        """The highest applied migration."""
        return int(self.query("SELECT max(version) AS v FROM schema_version")["v"].iloc[0])

    def close(self) -> None:
        """Checkpoint and close the file."""
        with self._lock:
            if not self.read_only:
                self._con.execute("CHECKPOINT")
            self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- generic reads ---------------------------------------------------------------------
    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new cursor for reading from another thread."""
        cur = self._con.cursor()
        cur.execute("SET TimeZone = 'UTC'")
        return cur

    def query(self, sql: str, params: list | None = None) -> pd.DataFrame:
        """Run a read query on its own cursor and return a DataFrame."""
        cur = self.cursor()
        try:
            return cur.execute(sql, params or []).df()
        finally:
            cur.close()

    def count(self, table: str) -> int:
        """Rows in a table."""
        return int(self.query(f"SELECT count(*) AS n FROM {table}")["n"].iloc[0])

    # -- in-memory board state (change detection) ------------------------------------------
    def _load_state(self) -> pd.DataFrame:
        df = self.query(
            "SELECT id AS offer_id, game_id, league, player_id, market, book, "
            "line_numeric AS line, over_price, under_price, is_suspended, is_active, "
            "fetched_at AS changed_at FROM prop_offers"
        )
        if df.empty:
            return empty_state()
        df["changed_at"] = pd.to_datetime(df["changed_at"], utc=True).dt.tz_localize(None) \
            .astype("datetime64[us]")
        df["gk"] = group_keys(df, GROUP)
        df["tk"] = group_keys(df, ["game_id", "market", "book"])
        for c in ("game_id", "league", "player_id", "market", "book"):
            df[c] = df[c].astype(object)
        df["offer_id"] = df["offer_id"].astype(object)
        return df.set_index("offer_id")[STATE_COLUMNS]

    # -- writes ----------------------------------------------------------------------------
    def upsert_games(self, games: Iterable[Game], now: pd.Timestamp | None = None) -> list[Game]:
        """Insert or update games; return those that are new or whose state changed."""
        games = list(games)
        if not games:
            return []
        now = now or pd.Timestamp.now(tz="UTC")
        df = pd.DataFrame([g.to_row() for g in games]).drop_duplicates("id", keep="last")
        df["start_time"] = pd.to_datetime(df["start_time"], utc=True)
        df["last_updated"] = now
        for col in ("home_score", "away_score", "period"):
            df[col] = df[col].astype("Int64")
        with self._lock:
            before = self._con.execute(
                "SELECT id, status, home_score, away_score, period, clock FROM games_live"
            ).df().set_index("id")
            self._con.register("g_in", _arrow(df))
            try:
                self._con.execute(
                    """INSERT INTO games_live (id, league, sport_key, status, start_time, home_team,
                        away_team, home_score, away_score, period, clock, provider, last_updated)
                    SELECT id, league, sport_key, status, start_time, home_team, away_team,
                        home_score, away_score, period, clock, provider, last_updated FROM g_in
                    ON CONFLICT (id) DO UPDATE SET status = excluded.status,
                        start_time = excluded.start_time, home_score = excluded.home_score,
                        away_score = excluded.away_score, period = excluded.period,
                        clock = excluded.clock, last_updated = excluded.last_updated"""
                )
            finally:
                self._con.unregister("g_in")
        changed = []
        for g in games:
            if g.id not in before.index:
                changed.append(g)
                continue
            b = before.loc[g.id]
            new = (str(g.status), g.home_score, g.away_score, g.period, g.clock)
            old = tuple(None if pd.isna(v) else v for v in
                        (b["status"], b["home_score"], b["away_score"], b["period"], b["clock"]))
            if tuple(new) != old:
                changed.append(g)
        return changed

    def mark_games(self, game_ids: Iterable[str], *, stale: bool,
                   now: pd.Timestamp | None = None) -> None:
        """Mark games stale (last poll failed, data kept) or fresh (polled now)."""
        ids = list(game_ids)
        if not ids:
            return
        now = now or pd.Timestamp.now(tz="UTC")
        with self._lock:
            if stale:
                self._con.execute(
                    "UPDATE games_live SET is_stale = TRUE WHERE list_contains(?, id)", [ids])
            else:
                self._con.execute(
                    "UPDATE games_live SET is_stale = FALSE, last_polled = ? "
                    "WHERE list_contains(?, id)", [now, ids])

    def apply_offers(
        self,
        batch: pd.DataFrame,
        *,
        covered: pd.DataFrame | None = None,
        now: pd.Timestamp | None = None,
    ) -> ChangeSet:
        """Store one poll's offer frame: snapshots for changed quotes, one upsert, movements.

        ``covered`` lists the (game_id, market, book) triples the poll fully reported (default:
        those in the batch); their active offers missing from the batch are marked withdrawn.
        Idempotent: the same batch twice adds nothing the second time. Invalid quotes are
        counted in ``rejected_quotes`` and never stored as offers.
        """
        now = now or pd.Timestamp.now(tz="UTC")
        valid, rejected = split_valid(batch)
        valid = valid.drop_duplicates("offer_id", keep="last")
        valid = valid.assign(gk=group_keys(valid, GROUP),
                             tk=group_keys(valid, ["game_id", "market", "book"]))
        cov = None if covered is None else group_keys(
            covered.astype(object), ["game_id", "market", "book"])
        with self._lock:
            state = self._state
            changed, withdrawn = detect_changes(state, valid, cov)
            moves = pd.DataFrame()
            new_state = state
            touched = np.union1d(changed["gk"].to_numpy(), withdrawn["gk"].to_numpy())
            if len(touched):
                before = main_lines(state[np.isin(state["gk"].to_numpy(), touched)])
                new_state = _next_state(state, changed, withdrawn, now)
                after = main_lines(new_state[np.isin(new_state["gk"].to_numpy(), touched)])
                moves = movements(before, after, now)
            upsert = _offer_rows(valid, changed, withdrawn, state, now)
            snaps = _snapshot_rows(changed, withdrawn, now)
            self._write(upsert, snaps, moves, rejected, now)
            self._state = new_state
        if len(rejected):
            log.warning("store: rejected %d invalid quotes (%s)", len(rejected),
                        "; ".join(rejected["reason"].value_counts().head(3).index))
        return ChangeSet(changed=changed, withdrawn=withdrawn, movements=moves,
                         rejected=rejected, upserted=upsert)

    def _write(self, upsert: pd.DataFrame, snaps: pd.DataFrame, moves: pd.DataFrame,
               rejected: pd.DataFrame, now: pd.Timestamp) -> None:
        con = self._con
        con.execute("BEGIN")
        try:
            if len(snaps):
                con.register("s_in", _arrow(snaps))
                con.execute(f"INSERT INTO odds_snapshots ({', '.join(SNAPSHOT_COLUMNS)}) "
                            f"SELECT {', '.join(SNAPSHOT_COLUMNS)} FROM s_in")
                con.unregister("s_in")
            if len(upsert):
                con.register("o_in", _arrow(upsert))
                cols = ", ".join(OFFER_TABLE_COLUMNS)
                # Identity columns are hashed into the id and never change; leaving them (and
                # the indexed game_id) out of the update keeps the upsert cheap.
                sets = ", ".join(f"{c} = excluded.{c}" for c in OFFER_TABLE_COLUMNS
                                 if c not in IDENTITY_COLUMNS)
                con.execute(f"INSERT INTO prop_offers ({cols}) SELECT {cols} FROM o_in "
                            f"ON CONFLICT (id) DO UPDATE SET {sets}")
                con.unregister("o_in")
            if len(moves):
                con.register("m_in", _arrow(moves))
                con.execute("INSERT INTO line_movements SELECT prop_offer_id, game_id, player_id, "
                            "market, book, kind, from_line, to_line, from_odds, to_odds, "
                            "from_prob, to_prob, movement_size, velocity, timestamp FROM m_in")
                con.unregister("m_in")
            if len(rejected):
                rej = pd.DataFrame({
                    "game_id": rejected["game_id"].astype(object),
                    "player_id": rejected["player_id"].astype(object),
                    "market": rejected["market"].astype(object),
                    "book": rejected["book"].astype(object),
                    "line_numeric": pd.to_numeric(rejected["line"], errors="coerce"),
                    "over_price": pd.to_numeric(rejected["over_price"], errors="coerce"),
                    "under_price": pd.to_numeric(rejected["under_price"], errors="coerce"),
                    "reason": rejected["reason"].astype(object), "fetched_at": now,
                })
                con.register("r_in", _arrow(rej))
                con.execute("INSERT INTO rejected_quotes SELECT * FROM r_in")
                con.unregister("r_in")
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise

    def write_rejects(self, rejects: pd.DataFrame, now: pd.Timestamp | None = None) -> int:
        """Record items a provider could not parse (game_id, market, book, player_name, reason)."""
        from propsage.domain import normalize_player_id

        now = now or pd.Timestamp.now(tz="UTC")
        names = rejects.get("player_name", pd.Series("", index=rejects.index)).fillna("")
        df = pd.DataFrame({
            "game_id": rejects.get("game_id"), "player_id": names.astype(str).map(normalize_player_id),
            "market": rejects.get("market"), "book": rejects.get("book"),
            "line_numeric": np.nan, "over_price": np.nan, "under_price": np.nan,
            "reason": rejects["reason"].astype(str), "fetched_at": now,
        }).astype({"game_id": object, "player_id": object, "market": object, "book": object,
                   "reason": object})
        with self._lock:
            self._con.register("r_in", _arrow(df))
            self._con.execute("INSERT INTO rejected_quotes SELECT * FROM r_in")
            self._con.unregister("r_in")
        return len(df)

    def write_frames(self, inserts: list[tuple[str, pd.DataFrame, str]],
                     updates: list[tuple[str, str, pd.DataFrame]] | None = None) -> None:
        """Insert frames into tables by column name (mode '', 'ignore' or 'replace') and run
        ``UPDATE ... FROM <name>`` statements, all in one transaction."""
        con = self._con
        with self._lock:
            con.execute("BEGIN")
            try:
                for table, df, mode in inserts:
                    cols = ", ".join(f'"{c}"' for c in df.columns)
                    verb = {"": "INSERT", "ignore": "INSERT OR IGNORE",
                            "replace": "INSERT OR REPLACE"}[mode]
                    con.register("f_in", _arrow(df))
                    con.execute(f"{verb} INTO {table} ({cols}) SELECT {cols} FROM f_in")
                    con.unregister("f_in")
                for sql, name, df in updates or []:
                    con.register(name, _arrow(df))
                    con.execute(sql)
                    con.unregister(name)
                con.execute("COMMIT")
            except Exception:
                con.execute("ROLLBACK")
                raise

    def write_results(self, results: pd.DataFrame) -> int:
        """Upsert actual stats (game_id, player_id, market, value, ...); returns rows written."""
        cols = ["game_id", "league", "game_date", "player_id", "player_name", "team", "position",
                "market", "value", "source"]
        df = results.copy()
        for c in cols:
            if c not in df:
                df[c] = None
        df = df[cols].drop_duplicates(["game_id", "player_id", "market"], keep="last")
        df["game_date"] = pd.to_datetime(df["game_date"]).dt.date
        with self._lock:
            self._con.register("res_in", _arrow(df))
            self._con.execute(
                f"INSERT OR REPLACE INTO results ({', '.join(cols)}) "
                f"SELECT {', '.join(cols)} FROM res_in")
            self._con.unregister("res_in")
        return len(df)

    def write_players(self, players: pd.DataFrame) -> int:
        """Upsert players (player_id, name, team, position, league)."""
        cols = ["player_id", "name", "team", "position", "league"]
        df = players.copy()
        for c in cols:
            if c not in df:
                df[c] = None
        df = df[cols].drop_duplicates("player_id", keep="last")
        with self._lock:
            self._con.register("p_in", _arrow(df))
            self._con.execute(f"INSERT OR REPLACE INTO players SELECT {', '.join(cols)} FROM p_in")
            self._con.unregister("p_in")
        return len(df)

    def execute(self, sql: str, params: list | None = None) -> None:
        """Run a write statement under the store's lock (for loaders and migrations)."""
        with self._lock:
            self._con.execute(sql, params or [])

    # -- reads -----------------------------------------------------------------------------
    def games(self) -> pd.DataFrame:
        """All games, soonest first."""
        return self.query("SELECT * FROM games_live ORDER BY start_time, id")

    def current_board(self, game_id: str | None = None, *, active_only: bool = True) -> pd.DataFrame:
        """The current quote of every offer (of one game)."""
        where, params = [], []
        if game_id is not None:
            where.append("game_id = ?")
            params.append(game_id)
        if active_only:
            where.append("is_active")
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        return self.query(f"SELECT * FROM prop_offers {clause} "
                          "ORDER BY game_id, player_id, market, book, line_numeric", params)

    def offer_history(self, offer_id: str) -> pd.DataFrame:
        """Every stored snapshot of one offer, oldest first."""
        return self.query("SELECT * FROM odds_snapshots WHERE prop_offer_id = ? "
                          "ORDER BY fetched_at", [offer_id])

    def board_as_of(self, ts: pd.Timestamp | str, game_id: str | None = None) -> pd.DataFrame:
        """Exactly what was known at ``ts``: each offer's last snapshot with fetched_at <= ts."""
        params: list = [pd.Timestamp(ts)]
        extra = ""
        if game_id is not None:
            extra = "AND game_id = ?"
            params.append(game_id)
        return self.query(
            f"""SELECT * FROM odds_snapshots WHERE fetched_at <= ? {extra}
                QUALIFY row_number() OVER (PARTITION BY prop_offer_id
                                           ORDER BY fetched_at DESC) = 1
                AND is_active
                ORDER BY game_id, player_id, market, book, line_numeric""", params)

    def movements(self, game_id: str | None = None, since: pd.Timestamp | None = None) -> pd.DataFrame:
        """Stored line movements, oldest first."""
        where, params = [], []
        if game_id is not None:
            where.append("game_id = ?")
            params.append(game_id)
        if since is not None:
            where.append('"timestamp" >= ?')
            params.append(since)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        return self.query(f'SELECT * FROM line_movements {clause} ORDER BY "timestamp"', params)


# -- helpers (pure) ------------------------------------------------------------------------
def _next_state(state: pd.DataFrame, changed: pd.DataFrame, withdrawn: pd.DataFrame,
                now: pd.Timestamp) -> pd.DataFrame:
    """The board state after a batch (positional updates: no per-row pandas indexing)."""
    rows = changed.set_index("offer_id")
    pos = state.index.get_indexer(rows.index)
    known = pos >= 0
    cols = {c: state[c].to_numpy(copy=True) for c in STATE_COLUMNS}
    gone = state.index.get_indexer(withdrawn.index)
    cols["is_active"][gone] = False
    cols["changed_at"][gone] = _naive(now)
    for c in STATE_COLUMNS:
        if c == "is_active":
            vals = np.ones(len(rows), dtype=bool)
        elif c == "changed_at":
            vals = np.full(len(rows), _naive(now))
        else:
            vals = rows[c].to_numpy()
        cols[c][pos[known]] = vals[known]
        cols[c] = np.concatenate([cols[c], vals[~known]]) if (~known).any() else cols[c]
    index = state.index.append(pd.Index(rows.index[~known], dtype=object)) \
        if (~known).any() else state.index
    index = pd.Index(index, dtype=object, name="offer_id")
    # Explicit object dtype: pandas 3 would infer its slower Arrow-backed str dtype.
    new = pd.DataFrame({c: pd.Series(v, index=index, dtype=object if v.dtype == object else None)
                        for c, v in cols.items()}, index=index)
    return new


def _naive(ts: pd.Timestamp) -> np.datetime64:
    """UTC instant as naive datetime64[us] (the board state's time unit)."""
    return ts.tz_convert("UTC").tz_localize(None).to_datetime64().astype("datetime64[us]")


def _model(frame: pd.DataFrame, col: str) -> pd.Series:
    if col in frame:
        return pd.to_numeric(frame[col], errors="coerce")
    return pd.Series(np.nan, index=frame.index, dtype=float)


def _offer_rows(valid: pd.DataFrame, changed: pd.DataFrame, withdrawn: pd.DataFrame,
                state: pd.DataFrame, now: pd.Timestamp) -> pd.DataFrame:
    """prop_offers rows: changed quotes, withdrawn ones and, when the batch was priced, the
    fresh model view of every quote of a player-market that changed."""
    if not len(changed) and not len(withdrawn):
        return pd.DataFrame(columns=list(OFFER_TABLE_COLUMNS))
    priced = any(c in valid for c in MODEL_COLUMNS)
    if priced:
        pm = valid["gk"].to_numpy()  # groups are per book; widen to the player-market below
        pmk = group_keys(valid, ["game_id", "player_id", "market"])
        hit = np.isin(pmk, np.unique(pmk[np.isin(pm, changed["gk"].to_numpy())]))
        rows = valid[hit | valid["offer_id"].isin(changed["offer_id"]).to_numpy()]
    else:
        rows = changed
    first_seen = state["changed_at"].reindex(rows["offer_id"].to_numpy()).dt.tz_localize("UTC")
    is_changed = rows["offer_id"].isin(changed["offer_id"]).to_numpy() | first_seen.isna().to_numpy()
    fetched = rows["fetched_at"].where(is_changed, first_seen.to_numpy())
    out = pd.DataFrame({
        "id": rows["offer_id"], "game_id": rows["game_id"], "league": rows["league"],
        "player_id": rows["player_id"], "player_name": rows["player_name"],
        "market": rows["market"], "book": rows["book"], "line_numeric": rows["line"],
        "over_price": rows["over_price"], "under_price": rows["under_price"],
        "is_live": rows["is_live"], "is_suspended": rows["is_suspended"], "is_active": True,
        **{c: _model(rows, c) for c in MODEL_COLUMNS},
        "book_last_update": rows["book_last_update"], "fetched_at": fetched,
        "last_updated": now, "created_at": now,
    })
    if len(withdrawn):
        gone = withdrawn.reset_index()
        w = pd.DataFrame({
            "id": gone["offer_id"], "game_id": gone["game_id"], "league": gone["league"],
            "player_id": gone["player_id"], "player_name": None, "market": gone["market"],
            "book": gone["book"], "line_numeric": gone["line"].astype(float),
            "over_price": gone["over_price"].astype(float),
            "under_price": gone["under_price"].astype(float), "is_live": False,
            "is_suspended": gone["is_suspended"].astype(bool), "is_active": False,
            **{c: np.nan for c in MODEL_COLUMNS},
            "book_last_update": pd.Series(pd.NaT, index=gone.index, dtype="datetime64[us, UTC]"),
            "fetched_at": now, "last_updated": now, "created_at": now,
        })
        out = w if out.empty else pd.concat([out, w], ignore_index=True)
    return out[list(OFFER_TABLE_COLUMNS)]


def _snapshot_rows(changed: pd.DataFrame, withdrawn: pd.DataFrame,
                   now: pd.Timestamp) -> pd.DataFrame:
    parts = []
    if len(changed):
        parts.append(pd.DataFrame({
            "prop_offer_id": changed["offer_id"].astype(object),
            "game_id": changed["game_id"].astype(object),
            "league": changed["league"].astype(object),
            "player_id": changed["player_id"].astype(object),
            "market": changed["market"].astype(object), "book": changed["book"].astype(object),
            "line_numeric": changed["line"].astype(float),
            "over_price": changed["over_price"].astype(float),
            "under_price": changed["under_price"].astype(float),
            "is_suspended": changed["is_suspended"].astype(bool), "is_active": True,
            "implied_prob": _model(changed, "implied_prob"),
            "fair_line": _model(changed, "fair_line"),
            "fair_over_prob": _model(changed, "fair_over_prob"),
            "edge": _model(changed, "edge"),
            "book_last_update": changed["book_last_update"],
            "fetched_at": changed["fetched_at"],
        }))
    if len(withdrawn):
        gone = withdrawn.reset_index()
        w = pd.DataFrame({
            "prop_offer_id": gone["offer_id"].astype(object),
            "game_id": gone["game_id"].astype(object), "league": gone["league"].astype(object),
            "player_id": gone["player_id"].astype(object), "market": gone["market"].astype(object),
            "book": gone["book"].astype(object), "line_numeric": gone["line"].astype(float),
            "over_price": gone["over_price"].astype(float),
            "under_price": gone["under_price"].astype(float),
            "is_suspended": gone["is_suspended"].astype(bool), "is_active": False,
            "implied_prob": np.nan, "fair_line": np.nan, "fair_over_prob": np.nan, "edge": np.nan,
            "book_last_update": pd.Series(pd.NaT, index=gone.index, dtype="datetime64[us, UTC]"),
            "fetched_at": now,
        })
        parts.append(w)
    if not parts:
        return pd.DataFrame(columns=list(SNAPSHOT_COLUMNS))
    return pd.concat(parts, ignore_index=True)[list(SNAPSHOT_COLUMNS)]
