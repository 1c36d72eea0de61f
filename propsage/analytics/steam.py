"""Steam moves and book lead-lag ("who moves first").

A *steam move* is at least ``k`` distinct books moving one (game, player, market) the same
way within ``window`` of the first of them, timed by the books' own clocks (``moved_at``).
Only significant moves count, and not moves after a gap (a suspension or outage hides when
they happened). Runs are found greedily in time order: a run that reaches ``k`` books becomes
a steam and consumes every move in its window; otherwise the search restarts at the next move.

Each steam records its first book (ties share the lead), the members and their lags, and the
*detection delay*: from the first book's move to the fetch at which the k-th book's move was
seen (``timestamp``), i.e. the earliest a poller could have known.

``lead_lag_table`` learns from history how often each book leads co-moves (runs of >= 2
books by default) per market, against the rate expected by chance (1 / books in the run).
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from propsage.analytics.quotes import GROUP, group_codes

STEAM_COLUMNS = [
    "steam_id", *GROUP, "league", "direction", "n_books", "books", "first_book", "started_at",
    "last_moved_at", "detected_at", "detection_delay_s", "from_line", "to_line", "is_live",
]
MEMBER_COLUMNS = ["steam_id", *GROUP, "book", "rank", "is_leader", "moved_at", "timestamp",
                  "lag_s", "line_move", "prob_move", "n_books"]
LEAD_LAG_COLUMNS = [
    "market", "book", "n_moves", "n_runs", "n_led", "lead_rate", "chance_rate", "lift",
    "median_lead_min", "median_lag_min",
]
_NS = 1_000_000_000


def _ns(s: pd.Series) -> np.ndarray:
    return pd.DatetimeIndex(s).as_unit("ns").asi8


def eligible_moves(movements: pd.DataFrame, live: bool | None = None) -> pd.DataFrame:
    """Significant, well-timed moves (optionally only pre-game or only in-play)."""
    m = movements
    keep = m["significant"].to_numpy(bool) & ~m["after_gap"].to_numpy(bool)
    keep &= m["direction"].to_numpy() != 0
    if live is not None:
        keep &= m["is_live"].to_numpy(bool) == live
    return m[keep]


def runs(code: np.ndarray, t: np.ndarray, book: list, k: int, window_ns: int,
         start: int = 0) -> list[tuple[int, list[int]]]:
    """Greedy runs of >= k distinct books within ``window_ns`` per code (rows sorted by code, t).

    Returns (first row, rows of each book's first move in the run) per run found.
    """
    found: list[tuple[int, list[int]]] = []
    n = len(code)
    code_l, t_l = code.tolist(), t.tolist()
    i = start
    while i < n:
        c, end = code_l[i], t_l[i] + window_ns
        books: dict = {}
        j = i
        while j < n and code_l[j] == c and t_l[j] <= end:
            books.setdefault(book[j], j)
            j += 1
        if len(books) >= k:
            found.append((i, list(books.values())))
            i = j
        else:
            i += 1
    return found


def steam_id(game_id: str, player_id: str, market: str, direction: int, start_ns: int) -> str:
    """Stable id of a steam move."""
    key = f"{game_id}|{player_id}|{market}|{direction}|{start_ns}"
    return hashlib.blake2b(key.encode(), digest_size=8).hexdigest()


def find_runs(
    movements: pd.DataFrame,
    *,
    k: int = 3,
    window: str | pd.Timedelta = "15min",
    live: bool | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(steam, members) frames of the runs of >= k books in ``movements``."""
    m = eligible_moves(movements, live)
    if m.empty:
        return pd.DataFrame(columns=STEAM_COLUMNS), pd.DataFrame(columns=MEMBER_COLUMNS)
    m = m.assign(_t=_ns(m["moved_at"]))
    m = m.assign(_c=group_codes(m, [*GROUP, "direction"]))
    m = m.sort_values(["_c", "_t", "timestamp", "book"], kind="stable").reset_index(drop=True)
    found = runs(m["_c"].to_numpy(), m["_t"].to_numpy(), m["book"].tolist(), k,
                 pd.Timedelta(window).value)
    return assemble(m, found, k)


def assemble(m: pd.DataFrame, found: list[tuple[int, list[int]]], k: int
             ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Steam and member frames from runs over the sorted eligible moves ``m`` (with ``_t``)."""
    if not found:
        return pd.DataFrame(columns=STEAM_COLUMNS), pd.DataFrame(columns=MEMBER_COLUMNS)
    run_of = np.concatenate([np.full(len(rows), r) for r, (_, rows) in enumerate(found)])
    rows = np.concatenate([np.asarray(r) for _, r in found])
    mem = m.iloc[rows].reset_index(drop=True)
    mem["_run"] = run_of
    t = mem["_t"].to_numpy()
    first_t = pd.Series(t).groupby(run_of).transform("min").to_numpy()
    mem["lag_s"] = (t - first_t) / _NS
    mem["is_leader"] = t == first_t
    mem["rank"] = mem.groupby("_run")["_t"].rank(method="min").astype(int)
    mem["n_books"] = mem.groupby("_run")["book"].transform("size")
    seen = _ns(mem["timestamp"])
    # Detected when the k-th distinct book's move was fetched.
    order = np.lexsort((seen, run_of))
    run_start = np.searchsorted(run_of[order], np.arange(len(found)))
    det = seen[order][run_start + k - 1]
    heads = mem.groupby("_run", sort=True)
    first = heads.head(1).set_index("_run")
    last = heads.tail(1).set_index("_run")
    ids = [steam_id(str(g), str(p), str(mk), int(d), int(s)) for g, p, mk, d, s in zip(
        first["game_id"], first["player_id"], first["market"], first["direction"],
        first_t[heads.head(1).index.to_numpy()], strict=True)]
    leaders = mem[mem["is_leader"]].groupby("_run")["book"].agg(lambda b: ",".join(sorted(b)))
    books = heads["book"].agg(",".join)
    started = pd.to_datetime(first_t[heads.head(1).index.to_numpy()], utc=True)
    detected = pd.to_datetime(det, utc=True)
    steam = pd.DataFrame({
        "steam_id": ids, **{c: first[c].to_numpy() for c in GROUP},
        "league": first["league"].to_numpy(), "direction": first["direction"].to_numpy(int),
        "n_books": heads.size().to_numpy(), "books": books.to_numpy(),
        "first_book": leaders.sort_index().to_numpy(), "started_at": started,
        "last_moved_at": pd.to_datetime(heads["_t"].max().to_numpy(), utc=True),
        "detected_at": detected,
        "detection_delay_s": (detected - started).total_seconds().to_numpy(),
        "from_line": first["from_line"].to_numpy(float), "to_line": last["to_line"].to_numpy(float),
        "is_live": heads["is_live"].any().to_numpy(bool),
    })
    mem["steam_id"] = np.asarray(ids, dtype=object)[run_of]
    return steam[STEAM_COLUMNS], mem[MEMBER_COLUMNS]


def detect_steam(
    movements: pd.DataFrame,
    *,
    k: int = 3,
    window: str | pd.Timedelta = "15min",
    live: bool | None = None,
) -> pd.DataFrame:
    """Steam moves: >= k books moving one market the same way within ``window``."""
    return find_runs(movements, k=k, window=window, live=live)[0]


def steam_members(
    movements: pd.DataFrame,
    *,
    k: int = 3,
    window: str | pd.Timedelta = "15min",
    live: bool | None = None,
) -> pd.DataFrame:
    """One row per (steam, book): its move time, rank and lag behind the first book."""
    return find_runs(movements, k=k, window=window, live=live)[1]


def lead_lag_table(
    movements: pd.DataFrame,
    *,
    k: int = 2,
    window: str | pd.Timedelta = "15min",
    live: bool | None = False,
) -> pd.DataFrame:
    """Per (market, book): how often the book moves first in co-moves, and by how long."""
    elig = eligible_moves(movements, live)
    _, mem = find_runs(movements, k=k, window=window, live=live)
    if mem.empty:
        return pd.DataFrame(columns=LEAD_LAG_COLUMNS)
    # A leader's lead: time to the first book that was not tied with it.
    follow = mem[~mem["is_leader"].to_numpy(bool)]
    next_lag = follow.groupby("steam_id")["lag_s"].min()
    mem = mem.assign(lead_s=np.where(mem["is_leader"], mem["steam_id"].map(next_lag), np.nan),
                     chance=1.0 / mem["n_books"])
    g = mem.groupby(["market", "book"])
    out = pd.DataFrame({
        "n_runs": g.size(), "n_led": g["is_leader"].sum(),
        "chance_rate": g["chance"].mean(),
        "median_lead_min": g["lead_s"].median() / 60.0,
        "median_lag_min": mem[~mem["is_leader"]].groupby(["market", "book"])["lag_s"].median()
        / 60.0,
    })
    out["n_moves"] = elig.groupby(["market", "book"]).size().reindex(out.index).fillna(0)
    out["lead_rate"] = out["n_led"] / out["n_runs"]
    out["lift"] = out["lead_rate"] / out["chance_rate"]
    out = out.reset_index()
    out["n_moves"] = out["n_moves"].astype(int)
    out["n_led"] = out["n_led"].astype(int)
    return out.sort_values(["market", "lead_rate"], ascending=[True, False])[
        LEAD_LAG_COLUMNS].reset_index(drop=True)
