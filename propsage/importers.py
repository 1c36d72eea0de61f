"""Historical odds into the store, each snapshot stored as of the moment it was captured.

Every loader turns one captured board into an offer frame and stores it with
``Store.apply_offers(frame, now=capture time)``, so ``fetched_at`` is the capture time and the
point-in-time backtest sees it exactly when it was knowable. Snapshots must be imported
oldest first (each loader sorts its own input); import history before live ingest starts.

Sources:
- The Odds API historical responses ``{"timestamp", "previous_timestamp", "next_timestamp",
  "data"}`` (featured ``/odds`` lists or per-event objects), as .json / .json.gz files;
- capture files: JSON lines (optionally .gz) ``{"snapshot_time", "data": [...]}``;
- CSV prop histories with columns player, game ('Away @ Home'), game_time, market, line,
  bookmaker, over_odds, under_odds: one file = one board; its capture time is ``captured_at``,
  else the file name's date (``props_YYYY-MM-DD_...``) at ``CSV_CAPTURE_HOUR`` UTC;
- change logs (``nfl_line_changes.csv.gz``: one row per outcome change) rebuilt into boards;
- results from box scores (``propsage.loaders.stats``).

NBA games get the loaders' id ``nba-<US date>-<AWAY>-<HOME>`` so box-score results join them.
An optional ``pricer(frame, captured_at) -> frame`` adds the model's view to each snapshot; it
must use only what was known at ``captured_at``.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from propsage.domain import (
    GAME_MARKETS,
    LEAGUE_SPORT_KEYS,
    Game,
    GameStatus,
    as_offer_frame,
    normalize_player_id,
)
from propsage.store import Store

log = logging.getLogger(__name__)

ImportPricer = Callable[[pd.DataFrame, pd.Timestamp], pd.DataFrame]
CSV_COLUMNS = ("player", "game", "game_time", "market", "line", "bookmaker", "over_odds",
               "under_odds")
CSV_CAPTURE_HOUR = 15          # the NBA props history was pulled about 15:00 UTC each day
FINAL_AFTER = pd.Timedelta(hours=12)
US_TZ = "America/New_York"

NBA_TEAMS: dict[str, str] = {
    "Atlanta Hawks": "ATL", "Boston Celtics": "BOS", "Brooklyn Nets": "BKN",
    "Charlotte Hornets": "CHA", "Chicago Bulls": "CHI", "Cleveland Cavaliers": "CLE",
    "Dallas Mavericks": "DAL", "Denver Nuggets": "DEN", "Detroit Pistons": "DET",
    "Golden State Warriors": "GSW", "Houston Rockets": "HOU", "Indiana Pacers": "IND",
    "Los Angeles Clippers": "LAC", "LA Clippers": "LAC", "Los Angeles Lakers": "LAL",
    "Memphis Grizzlies": "MEM", "Miami Heat": "MIA", "Milwaukee Bucks": "MIL",
    "Minnesota Timberwolves": "MIN", "New Orleans Pelicans": "NOP", "New York Knicks": "NYK",
    "Oklahoma City Thunder": "OKC", "Orlando Magic": "ORL", "Philadelphia 76ers": "PHI",
    "Phoenix Suns": "PHX", "Portland Trail Blazers": "POR", "Sacramento Kings": "SAC",
    "San Antonio Spurs": "SAS", "Toronto Raptors": "TOR", "Utah Jazz": "UTA",
    "Washington Wizards": "WAS",
}
_MARKET_LEAGUE = {"player_threes": "nba", "player_points": "nba", "player_rebounds": "nba",
                  "player_assists": "nba", "player_points_rebounds_assists": "nba"}


@dataclass(slots=True)
class ImportReport:
    """What an import stored."""

    snapshots_in: int = 0            # boards read
    quotes: int = 0                  # quotes offered to the store
    stored_snapshots: int = 0        # snapshot rows appended (changed quotes only)
    rejected: int = 0
    games: int = 0
    skipped: list[str] = field(default_factory=list)

    def add(self, other: ImportReport) -> None:
        """Fold another report into this one."""
        self.snapshots_in += other.snapshots_in
        self.quotes += other.quotes
        self.stored_snapshots += other.stored_snapshots
        self.rejected += other.rejected
        self.games += other.games
        self.skipped += other.skipped


def game_id_for(league: str, home: str, away: str, start: pd.Timestamp) -> str:
    """A stable game id: the loaders' NBA form when both teams are known, else a hash."""
    start = pd.Timestamp(start)
    if league == "nba" and home in NBA_TEAMS and away in NBA_TEAMS:
        day = start.tz_convert(US_TZ).strftime("%Y-%m-%d")
        return f"nba-{day}-{NBA_TEAMS[away]}-{NBA_TEAMS[home]}"
    key = f"{league}|{home}|{away}|{start.strftime('%Y-%m-%dT%H:%M')}"
    return hashlib.blake2b(key.encode(), digest_size=6).hexdigest()


def _finalize_games(store: Store, games: dict[str, Game], now: pd.Timestamp | None = None
                    ) -> None:
    """Upsert imported games; those long started are final (no live feed will close them)."""
    if not games:
        return
    wall = pd.Timestamp.now(tz="UTC") if now is None else now
    for g in games.values():
        if pd.Timestamp(g.start_time) < wall - FINAL_AFTER:
            g.status = GameStatus.FINAL
    store.upsert_games(list(games.values()), wall)


def _store_board(store: Store, offers: pd.DataFrame, at: pd.Timestamp,
                 pricer: ImportPricer | None, covered: pd.DataFrame | None = None
                 ) -> ImportReport:
    rep = ImportReport(snapshots_in=1, quotes=len(offers))
    if offers.empty:
        return rep
    offers = offers.assign(fetched_at=at)
    if pricer is not None:
        offers = pricer(offers, at)
    changes = store.apply_offers(offers, covered=covered, now=at)
    rep.stored_snapshots = changes.n_snapshots
    rep.rejected = len(changes.rejected)
    return rep


def _covered(offers: pd.DataFrame, books: set[str]) -> pd.DataFrame:
    """(game, market, book) triples a full board reports: its games x markets x known books."""
    games = offers["game_id"].astype(object).unique()
    markets = offers["market"].astype(object).unique()
    return pd.MultiIndex.from_product([games, markets, sorted(books)],
                                      names=["game_id", "market", "book"]).to_frame(index=False)


# -- The Odds API JSON (historical wrapper, captures) -----------------------------------------

def import_odds_payload(store: Store, payload: Any, captured_at: Any = None, *,
                        pricer: ImportPricer | None = None, books: set[str] | None = None,
                        games: dict[str, Game] | None = None) -> ImportReport:
    """One Odds API response (bare or historical wrapper) stored as of its capture time."""
    from propsage.providers.parse import parse_odds

    parsed = parse_odds(payload, _utc(captured_at) if captured_at is not None else None)
    at = _utc(captured_at) if captured_at is not None else parsed.timestamp
    if at is None:
        raise ValueError("no capture time: pass captured_at or a historical wrapper")
    seen = books if books is not None else set()
    seen.update(parsed.offers["book"].astype(object).unique())
    gs = games if games is not None else {}
    for g in parsed.games:
        gs[g.id] = g
    if games is None:
        _finalize_games(store, gs)
    rep = _store_board(store, parsed.offers, at, pricer, _covered(parsed.offers, seen))
    rep.rejected += len(parsed.rejects)
    rep.games = len(parsed.games)
    return rep


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    return path.open(encoding="utf-8")


def _utc(value: Any) -> pd.Timestamp:
    t = pd.Timestamp(value)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def import_historical(store: Store, paths: Iterable[str | Path], *,
                      pricer: ImportPricer | None = None) -> ImportReport:
    """Historical-endpoint responses (one JSON per file), stored oldest first."""
    payloads = []
    for p in paths:
        with _open_text(Path(p)) as fh:
            payload = json.load(fh)
        if not (isinstance(payload, dict) and "timestamp" in payload and "data" in payload):
            raise ValueError(f"{p}: not a historical response (needs 'timestamp' and 'data')")
        payloads.append((_utc(payload["timestamp"]), payload))
    payloads.sort(key=lambda x: x[0])
    return _import_payloads(store, ((t, p) for t, p in payloads), pricer)


def iter_capture(path: str | Path) -> Iterator[tuple[pd.Timestamp, Any]]:
    """(snapshot_time, data) of each line of a capture file (JSONL, optionally gzipped)."""
    with _open_text(Path(path)) as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            rec = json.loads(line)
            if "snapshot_time" not in rec or "data" not in rec:
                raise ValueError(f"{path}:{n}: capture lines need 'snapshot_time' and 'data'")
            yield _utc(rec["snapshot_time"]), rec["data"]


def import_capture(store: Store, path: str | Path, *, pricer: ImportPricer | None = None
                   ) -> ImportReport:
    """A capture file ({"snapshot_time", "data"} per line), stored oldest first."""
    items = sorted(iter_capture(path), key=lambda x: x[0])
    return _import_payloads(store, iter(items), pricer)


def _import_payloads(store: Store, items: Iterator[tuple[pd.Timestamp, Any]],
                     pricer: ImportPricer | None) -> ImportReport:
    total = ImportReport()
    books: set[str] = set()
    games: dict[str, Game] = {}
    for at, payload in items:
        total.add(import_odds_payload(store, payload, at, pricer=pricer, books=books,
                                      games=games))
    _finalize_games(store, games)
    total.games = len(games)
    return total


# -- CSV prop histories ------------------------------------------------------------------------

_DATE_IN_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})")


def csv_capture_time(path: str | Path, frame: pd.DataFrame) -> pd.Timestamp:
    """The file name's date at CSV_CAPTURE_HOUR UTC, never after the earliest game; else 1 h before it."""
    first = pd.to_datetime(frame["game_time"], utc=True).min()
    m = _DATE_IN_NAME.search(Path(path).name)
    if m:
        t = pd.Timestamp(m.group(1), tz="UTC") + pd.Timedelta(hours=CSV_CAPTURE_HOUR)
        return min(t, first - pd.Timedelta(minutes=1)) if pd.notna(first) else t
    return first - pd.Timedelta(hours=1)


def prop_csv_offers(frame: pd.DataFrame, captured_at: pd.Timestamp,
                    league: str | None = None) -> tuple[pd.DataFrame, dict[str, Game]]:
    """An offer frame and its games from one CSV prop board."""
    missing = [c for c in CSV_COLUMNS if c not in frame]
    if missing:
        raise ValueError(f"prop CSV lacks columns {missing}; needs {list(CSV_COLUMNS)}")
    df = frame.dropna(subset=["player", "game", "game_time", "bookmaker"]).copy()
    teams = df["game"].astype(str).str.split(" @ ", n=1, expand=True)
    if teams.shape[1] < 2:
        raise ValueError("prop CSV 'game' must read 'Away Team @ Home Team'")
    df["away"], df["home"] = teams[0].str.strip(), teams[1].str.strip()
    df["start"] = pd.to_datetime(df["game_time"], utc=True)
    df["league"] = league or df["market"].map(_MARKET_LEAGUE).fillna("nba")
    keys = df[["league", "home", "away", "start"]].drop_duplicates()
    games: dict[str, Game] = {}
    ids = {}
    for lg, home, away, start in keys.itertuples(index=False):
        gid = game_id_for(lg, home, away, start)
        ids[(lg, home, away, start)] = gid
        games[gid] = Game(id=gid, league=lg, start_time=start.to_pydatetime(), home_team=home,
                          away_team=away, sport_key=LEAGUE_SPORT_KEYS.get(lg, ""),
                          provider="import-csv")
    df["game_id"] = [ids[k] for k in zip(df["league"], df["home"], df["away"], df["start"],
                                         strict=True)]
    offers = pd.DataFrame({
        "game_id": df["game_id"], "league": df["league"],
        "player_name": df["player"].astype(str),
        "player_id": df["player"].astype(str).map(normalize_player_id),
        "market": df["market"].astype(str), "book": df["bookmaker"].astype(str),
        "line": pd.to_numeric(df["line"], errors="coerce"),
        "over_price": pd.to_numeric(df["over_odds"], errors="coerce"),
        "under_price": pd.to_numeric(df["under_odds"], errors="coerce"),
        "is_live": (df["start"] <= captured_at).to_numpy(),
        "fetched_at": captured_at,
    })
    return as_offer_frame(offers), games


def import_prop_csv(store: Store, paths: Iterable[str | Path], *, league: str | None = None,
                    captured_at: Any = None, pricer: ImportPricer | None = None) -> ImportReport:
    """CSV prop boards (one file = one capture), stored oldest first."""
    boards = []
    for p in paths:
        frame = pd.read_csv(p)
        at = _utc(captured_at) if captured_at is not None else csv_capture_time(p, frame)
        boards.append((at, str(p), frame))
    boards.sort(key=lambda b: b[0])
    total = ImportReport()
    games: dict[str, Game] = {}
    books: set[str] = set()
    for at, name, frame in boards:
        if frame.empty:
            total.skipped.append(name)
            continue
        offers, gs = prop_csv_offers(frame, at, league)
        games.update(gs)
        books.update(offers["book"].astype(object).unique())
        total.add(_store_board(store, offers, at, pricer, _covered(offers, books)))
    _finalize_games(store, games)
    total.games = len(games)
    return total


# -- change logs (one row per outcome change) --------------------------------------------------

def import_line_changes(store: Store, path: str | Path | pd.DataFrame, *,
                        since: Any = None, until: Any = None, pregame_only: bool = True,
                        pricer: ImportPricer | None = None,
                        progress: bool = False) -> ImportReport:
    """A game-line change log (columns of ``nfl_line_changes.csv.gz``) rebuilt into boards.

    Each outcome's last (point, price) is carried forward; at every snapshot_time the
    (game, market, book) triples that changed are stored whole, so a moved line withdraws the
    old one.
    """
    df = path if isinstance(path, pd.DataFrame) else pd.read_csv(path)
    df = df[df["market_key"].isin(GAME_MARKETS)].copy()
    df["t"] = pd.to_datetime(df["snapshot_time"], utc=True, format="ISO8601")
    if pregame_only and "is_pregame" in df:
        df = df[df["is_pregame"].astype(int) == 1]
    if since is not None:
        df = df[df["t"] >= _utc(since)]
    if until is not None:
        df = df[df["t"] < _utc(until)]
    boards = _change_boards(df)
    games = _change_games(df)
    _finalize_games(store, games)
    total = ImportReport(games=len(games))
    times = boards["fetched_at"].drop_duplicates().sort_values()
    it = times
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(times, unit="snapshot", desc="import changes")
    for t, board in zip(it, (g for _, g in boards.groupby("fetched_at", sort=True)),
                        strict=True):
        offers = as_offer_frame(board.drop(columns=["fetched_at"]).assign(fetched_at=t))
        covered = board[["game_id", "market", "book"]].astype(object).drop_duplicates()
        total.add(_store_board(store, offers, t, pricer, covered))
    return total


def _change_games(df: pd.DataFrame) -> dict[str, Game]:
    ev = df.drop_duplicates("event_id", keep="last")
    out = {}
    for r in ev.itertuples(index=False):
        lg = {v: k for k, v in LEAGUE_SPORT_KEYS.items()}.get(r.sport_key, r.sport_key)
        out[r.event_id] = Game(id=r.event_id, league=lg, home_team=r.home_team,
                               away_team=r.away_team, sport_key=r.sport_key,
                               start_time=pd.Timestamp(r.commence_time).to_pydatetime(),
                               provider="import-changes")
    return out


def _change_boards(df: pd.DataFrame) -> pd.DataFrame:
    """One offer row per (snapshot, game, market, book) that changed, sides carried forward."""
    if df.empty:
        return pd.DataFrame(columns=["game_id", "league", "market", "book", "line", "over_price",
                                     "under_price", "book_last_update", "fetched_at"])
    name = df["outcome_name"].astype(str)
    first = np.where(df["market_key"] == "totals", name == "Over", name == df["home_team"])
    second = np.where(df["market_key"] == "totals", name == "Under", name == df["away_team"])
    d = pd.DataFrame({
        "game_id": df["event_id"].to_numpy(), "sport_key": df["sport_key"].to_numpy(),
        "market": df["market_key"].to_numpy(), "book": df["bookmaker_key"].to_numpy(),
        "t": df["t"].to_numpy(), "upd": df["market_last_update"].to_numpy(),
        "o_price": np.where(first, df["outcome_price"], np.nan),
        "o_point": np.where(first, df["outcome_point"], np.nan),
        "u_price": np.where(second, df["outcome_price"], np.nan),
        "u_point": np.where(second, df["outcome_point"], np.nan),
    })
    d = d[first | second]
    keys = ["game_id", "market", "book"]
    d = d.sort_values([*keys, "t"], kind="stable")
    # Collapse each snapshot's rows of a triple, then carry each side forward in time.
    d = d.groupby([*keys, "t"], sort=False).agg(
        sport_key=("sport_key", "last"), upd=("upd", "last"), o_price=("o_price", "last"),
        o_point=("o_point", "last"), u_price=("u_price", "last"),
        u_point=("u_point", "last")).reset_index()
    d = d.sort_values([*keys, "t"], kind="stable")
    cols = ["o_price", "o_point", "u_price", "u_point"]
    d[cols] = d.groupby(keys, sort=False)[cols].ffill()
    market = d["market"].to_numpy(object)
    home_pt = np.where(np.isnan(d["o_point"]), -d["u_point"], d["o_point"])
    line = np.where(market == "h2h", 0.0, np.where(market == "spreads", home_pt, d["o_point"]))
    # Keep the second side only when it quotes the same line as the first.
    other = np.where(market == "spreads", -d["u_point"], d["u_point"])
    same = (market == "h2h") | np.isclose(other, line) | np.isnan(d["u_point"].to_numpy())
    lg_of = {v: k for k, v in LEAGUE_SPORT_KEYS.items()}
    return pd.DataFrame({
        "game_id": d["game_id"], "league": d["sport_key"].map(lg_of).fillna(d["sport_key"]),
        "player_id": "", "player_name": "", "market": d["market"], "book": d["book"],
        "line": line, "over_price": d["o_price"],
        "under_price": np.where(same, d["u_price"], np.nan),
        "book_last_update": pd.to_datetime(d["upd"], utc=True, errors="coerce",
                                           format="ISO8601"),
        "fetched_at": d["t"],
    }).reset_index(drop=True)


# -- results -------------------------------------------------------------------------------------

def import_box_scores(store: Store, path: str | Path, league: str = "nba") -> int:
    """Box scores / weekly stats into ``results`` and ``players``; returns result rows."""
    from propsage.loaders.stats import load_nba_box_scores, load_nfl_weekly

    loaded = load_nba_box_scores(path) if league == "nba" else load_nfl_weekly(path)
    store.write_players(loaded.players)
    return store.write_results(loaded.results)


# -- CLI: propsage import ----------------------------------------------------------------------

KINDS = ("historical", "capture", "csv", "changes", "box-scores")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``propsage import``."""
    parser.add_argument("kind", choices=KINDS, help="what the files are")
    parser.add_argument("paths", nargs="+", type=Path, help="files (or directories of them)")
    parser.add_argument("--db", dest="db_path", type=Path, help="DuckDB store (default: settings)")
    parser.add_argument("--league", help="league of CSV props / box scores (default: nba)")
    parser.add_argument("--captured-at", help="capture time of CSV boards (default: from name)")
    parser.add_argument("--since", help="change logs: first snapshot time to import")
    parser.add_argument("--until", help="change logs: import snapshots before this time")


def _expand(paths: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(f for f in p.iterdir() if f.is_file() and not f.name.startswith("."))
        else:
            out.append(p)
    return out


def main(args: argparse.Namespace) -> int:
    """Import history into the store."""
    db = args.db_path
    if db is None:
        from propsage.config import load_settings

        db = load_settings().db_path
    files = _expand(args.paths)
    with Store(db) as store:
        if args.kind == "box-scores":
            n = sum(import_box_scores(store, f, args.league or "nba") for f in files)
            print(f"stored {n} results into {db}")
            return 0
        if args.kind == "historical":
            rep = import_historical(store, files)
        elif args.kind == "capture":
            rep = ImportReport()
            for f in files:
                rep.add(import_capture(store, f))
        elif args.kind == "csv":
            rep = import_prop_csv(store, files, league=args.league,
                                  captured_at=args.captured_at)
        else:
            rep = ImportReport()
            for f in files:
                rep.add(import_line_changes(store, f, since=args.since, until=args.until,
                                            progress=True))
    print(f"imported {rep.snapshots_in} boards ({rep.quotes} quotes) of {rep.games} games: "
          f"{rep.stored_snapshots} snapshot rows, {rep.rejected} rejected, into {db}")
    return 0
