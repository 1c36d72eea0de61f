"""Change detection: which quotes of a poll are new or different from the current board.

Pure functions over frames. The current board is small (one row per offer), so detecting
changes against it costs the same whatever the size of the stored history.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from propsage.odds import no_vig_two_way

GROUP = ["game_id", "player_id", "market", "book"]
# What the in-memory board keeps per offer to detect changes and movements. ``gk`` hashes the
# (game, player, market, book) group and ``tk`` the (game, market, book) triple, so set tests
# run on integers.
STATE_COLUMNS = [
    "game_id", "league", "player_id", "market", "book", "line", "over_price", "under_price",
    "is_suspended", "is_active", "changed_at", "gk", "tk",
]


def group_keys(frame: pd.DataFrame, cols: list[str]) -> np.ndarray:
    """A uint64 hash per row of the given key columns (vectorised)."""
    return pd.util.hash_pandas_object(frame[cols], index=False).to_numpy()


@dataclass(slots=True)
class ChangeSet:
    """What one stored batch changed."""

    changed: pd.DataFrame                 # new or different quotes (offer frame + model columns)
    withdrawn: pd.DataFrame               # offers the book stopped quoting (state rows)
    movements: pd.DataFrame               # main-line and price moves per (game, player, market, book)
    rejected: pd.DataFrame = field(default_factory=pd.DataFrame)
    upserted: pd.DataFrame = field(default_factory=pd.DataFrame)  # rows written to prop_offers

    @property
    def n_snapshots(self) -> int:
        """Snapshot rows this batch appended."""
        return len(self.changed) + len(self.withdrawn)

    @property
    def empty(self) -> bool:
        """True when nothing changed."""
        return self.n_snapshots == 0


def empty_state() -> pd.DataFrame:
    """An empty board state indexed by offer_id."""
    df = pd.DataFrame({
        "game_id": pd.Series(dtype=object), "league": pd.Series(dtype=object),
        "player_id": pd.Series(dtype=object), "market": pd.Series(dtype=object),
        "book": pd.Series(dtype=object), "line": pd.Series(dtype=float),
        "over_price": pd.Series(dtype=float), "under_price": pd.Series(dtype=float),
        "is_suspended": pd.Series(dtype=bool), "is_active": pd.Series(dtype=bool),
        "changed_at": pd.Series(dtype="datetime64[us]"),  # naive UTC
        "gk": pd.Series(dtype="uint64"), "tk": pd.Series(dtype="uint64"),
    })
    df.index = pd.Index([], name="offer_id", dtype=object)
    return df


def _differs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise a != b where NaN equals NaN."""
    return ~((a == b) | (np.isnan(a) & np.isnan(b)))


def detect_changes(
    state: pd.DataFrame, batch: pd.DataFrame, covered: np.ndarray | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (changed rows of ``batch``, withdrawn rows of ``state``).

    ``batch`` carries ``gk``/``tk`` keys (see ``group_keys``). ``covered`` holds the ``tk``
    keys of the (game_id, market, book) triples this poll fully reported; an active offer of a
    covered triple that is missing from the batch was withdrawn by its book. Defaults to the
    triples present in the batch.
    """
    prev = state.reindex(batch["offer_id"].to_numpy())
    known = prev["is_active"].notna().to_numpy()
    changed = ~known
    for col in ("line", "over_price", "under_price"):
        changed |= _differs(
            batch[col].to_numpy(dtype=float, na_value=np.nan),
            prev[col].to_numpy(dtype=float, na_value=np.nan),
        )
    prev_susp = prev["is_suspended"].fillna(False).to_numpy(dtype=bool)
    prev_active = prev["is_active"].fillna(False).to_numpy(dtype=bool)
    changed |= batch["is_suspended"].to_numpy(dtype=bool) != prev_susp
    changed |= known & ~prev_active
    if covered is None:
        covered = batch["tk"].to_numpy()
    active = state[state["is_active"].to_numpy(dtype=bool)]
    if active.empty:
        withdrawn = active
    else:
        gone = pd.Index(active["tk"].to_numpy()).isin(covered)
        gone &= ~pd.Index(active.index).isin(pd.Index(batch["offer_id"].to_numpy()))
        withdrawn = active[gone]
    return batch[changed], withdrawn


def main_lines(state: pd.DataFrame) -> pd.DataFrame:
    """Per (game, player, market, book): the active line whose no-vig P(over) is nearest 0.5."""
    cols = [*GROUP, "gk", "line", "over_price", "under_price", "changed_at"]
    active = state.loc[state["is_active"].to_numpy(dtype=bool), cols]
    if active.empty:
        return pd.DataFrame(columns=[*GROUP, "gk", "offer_id", "line", "over_price",
                                     "under_price", "prob", "changed_at"])
    p_over, _ = no_vig_two_way(
        active["over_price"].to_numpy(dtype=float), active["under_price"].to_numpy(dtype=float)
    )
    df = active.reset_index()
    df["prob"] = p_over
    # One-sided quotes have no no-vig prob: rank them after every two-sided line.
    dist = np.where(np.isnan(p_over), 9.0, np.abs(p_over - 0.5))
    # Sort on the integer group hash, not the four string columns (several times faster).
    order = np.lexsort((df["line"].to_numpy(dtype=float), dist, df["gk"].to_numpy()))
    df = df.iloc[order]
    first = np.ones(len(df), dtype=bool)
    first[1:] = df["gk"].to_numpy()[1:] != df["gk"].to_numpy()[:-1]
    return df[first]


def movements(before: pd.DataFrame, after: pd.DataFrame, at: pd.Timestamp) -> pd.DataFrame:
    """Main-line ('line') and same-line price ('price') moves between two main-line frames."""
    cols = ["prop_offer_id", *GROUP, "kind", "from_line", "to_line", "from_odds", "to_odds",
            "from_prob", "to_prob", "movement_size", "velocity", "timestamp"]
    if before.empty or after.empty:
        return pd.DataFrame(columns=cols)
    m = before.drop(columns=GROUP).merge(after, on="gk", suffixes=("_b", "_a"))
    line_move = _differs(m["line_b"].to_numpy(float), m["line_a"].to_numpy(float))
    price_move = ~line_move & (
        _differs(m["over_price_b"].to_numpy(float), m["over_price_a"].to_numpy(float))
        | _differs(m["under_price_b"].to_numpy(float), m["under_price_a"].to_numpy(float))
    )
    m = m[line_move | price_move].copy()
    if m.empty:
        return pd.DataFrame(columns=cols)
    m["kind"] = np.where(line_move[line_move | price_move], "line", "price")
    size = (m["line_a"] - m["line_b"]).abs()
    naive_at = at.tz_convert("UTC").tz_localize(None)
    minutes = (naive_at - m["changed_at_b"]).dt.total_seconds().to_numpy() / 60.0
    with np.errstate(divide="ignore", invalid="ignore"):
        vel = np.where(minutes > 0, (m["line_a"] - m["line_b"]).to_numpy() / minutes, np.nan)
    return pd.DataFrame({
        "prop_offer_id": m["offer_id_a"], "game_id": m["game_id"], "player_id": m["player_id"],
        "market": m["market"], "book": m["book"], "kind": m["kind"],
        "from_line": m["line_b"], "to_line": m["line_a"],
        "from_odds": m["over_price_b"], "to_odds": m["over_price_a"],
        "from_prob": m["prob_b"], "to_prob": m["prob_a"],
        "movement_size": size.fillna(0.0), "velocity": vel, "timestamp": at,
    }).reset_index(drop=True)
