"""Real-data evaluation of the backtest engine: the numbers in docs/evaluation.md.

    python scripts/evaluate_backtest.py                 # builds data/eval_*.duckdb once
    python scripts/evaluate_backtest.py --json out.json

1. NFL 2025 game lines (../shared/data/odds-api-nfl/nfl_line_changes.csv.gz, MIT): the whole
   pre-game change log imported as boards at their capture times. Prices flagged +EV against
   the other books' no-vig consensus (6 h, 2 h, 30 min before kickoff; first flag per
   game-market) are judged against the closing consensus, line-aware, and by book. There
   are no 2025 scores in the data, so no grading.
2. NBA 2024-25 player_threes (one pre-game board per day, ~15:00 UTC) imported with a
   point-in-time pricer (priors from box scores of earlier days only), graded with the
   season's box scores: ROI, hit rate, calibration, and log loss of model vs market with
   paired, game-clustered tests.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from propsage.backtest import Strategy, run_backtest
from propsage.backtest.engine import games_in_scope, open_source, read_boards, read_results
from propsage.backtest.metrics import calibration
from propsage.backtest.stats import brier, log_loss, paired_test, wilson_interval
from propsage.paths import DATA_DIR, shared_data
from propsage.store import Store

REDUCED_JUICE = ("lowvig", "betonlineag")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# -- stores -------------------------------------------------------------------------------------

def build_nfl(shared: Path, work: Path) -> Path:
    """The NFL change log as a store (cached)."""
    from propsage.importers import import_line_changes

    db = work / "eval_nfl_2025.duckdb"
    if db.exists():
        return db
    log("importing the NFL change log (a few minutes)")
    with Store(db) as store:
        rep = import_line_changes(store, shared / "odds-api-nfl" / "nfl_line_changes.csv.gz",
                                  progress=True)
    log(f"NFL: {rep}")
    return db


def build_nba(shared: Path, work: Path) -> Path:
    """NBA threes boards priced point in time, plus box-score results (cached)."""
    from propsage.importers import import_box_scores, import_prop_csv
    from propsage.loaders.stats import load_nba_box_scores
    from propsage.pricing.pricer import BoardPricer

    db = work / "eval_nba_threes_2024_25.duckdb"
    if db.exists():
        return db
    box = shared / "nba-stats" / "player_game_logs_2024_25.csv.gz"
    results = load_nba_box_scores(box).results
    # Priors from games before each board's US date only (BoardPricer's as_of): no leak.
    pricer = BoardPricer(load_results=lambda: results)
    files = sorted((shared / "odds-api-nba-props" / "player_threes_2024_25").glob("*.csv.gz"))
    log(f"importing {len(files)} NBA threes boards with the point-in-time pricer")
    with Store(db) as store:
        rep = import_prop_csv(store, files, pricer=lambda frame, at: pricer(frame))
        import_box_scores(store, box)
    log(f"NBA: {rep}")
    return db


# -- helpers ------------------------------------------------------------------------------------

def _f(x: float, nd: int = 4) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(float(x), nd)


def clv_block(bets: pd.DataFrame) -> dict:
    """Beat-the-close shares (line-aware and same-line only) with Wilson intervals."""
    la = bets[bets["clv_ev"].notna()]
    k = int((la["clv_ev"] > 0).sum())
    lo, hi = wilson_interval(k, len(la))
    same = bets[bets["clv_ev_same_line"].notna()]
    ks = int((same["clv_ev_same_line"] > 0).sum())
    slo, shi = wilson_interval(ks, len(same))
    moved = la[la["line_moved"].astype(bool)]
    km = int((moved["clv_ev"] > 0).sum())
    mt = paired_test(la["clv_ev"], np.zeros(len(la)), la["game_id"].astype(str))
    # Same line where any book closed on it, else line-aware: the market's own price of the
    # bet's number beats a model conversion (NFL spreads: key numbers 3 and 7).
    hybrid = bets["clv_ev_same_line"].fillna(bets["clv_ev"]).dropna()
    kh = int((hybrid > 0).sum())
    hlo, hhi = wilson_interval(kh, len(hybrid))
    both = moved[moved["p_close_same_line"].notna()]
    return {
        "bets": int(len(bets)), "with_close": int(len(la)),
        "beat_close": _f(k / len(la)) if len(la) else None,
        "beat_close_ci": [_f(lo), _f(hi)],
        "clv_ev_mean": _f(mt["mean_diff"]), "clv_ev_se": _f(mt["se"]),
        "same_line_n": int(len(same)),
        "same_line_beat_close": _f(ks / len(same)) if len(same) else None,
        "same_line_ci": [_f(slo), _f(shi)],
        "moved": int(len(moved)),
        "moved_against": int(moved["moved_against"].astype(bool).sum()),
        "moved_beat_close": _f(km / len(moved)) if len(moved) else None,
        "moved_with_same_line": int(len(both)),
        "moved_line_aware_minus_same_line_p": _f((both["p_close"]
                                                  - both["p_close_same_line"]).mean()),
        "hybrid_beat_close": _f(kh / len(hybrid)) if len(hybrid) else None,
        "hybrid_ci": [_f(hlo), _f(hhi)],
        "mean_ev_at_bet": _f(bets["ev"].mean()),
    }


def by(bets: pd.DataFrame, key: str) -> list[dict]:
    return [{key: str(k), **clv_block(b)} for k, b in bets.groupby(key, observed=True)]


# -- NFL ----------------------------------------------------------------------------------------

def nfl_eval(db: Path) -> dict:
    """CLV of soft-book prices flagged +EV against the other books' no-vig consensus."""
    out: dict = {}
    with Store(db, read_only=True) as s:
        out["data"] = s.query(
            "SELECT count(*) AS snapshots, count(DISTINCT game_id) AS games, "
            "count(DISTINCT book) AS books, min(fetched_at)::VARCHAR AS first, "
            "max(fetched_at)::VARCHAR AS last FROM odds_snapshots").iloc[0].to_dict()
    # The change log never records a quote leaving, so a book that stopped quoting a game
    # keeps its last price "active" for days (up to 99 days here): quotes unchanged for more
    # than 24 h are ignored, at decision time and at the close.
    base = Strategy(name="nfl", model="consensus", min_books=4,
                    decide_before=("6h", "2h", "30m"), max_quote_age="24h")
    runs = {"min_ev_1pct": base.replace(min_ev=0.01),
            "min_ev_2pct": base.replace(min_ev=0.02),
            "min_ev_3pct": base.replace(min_ev=0.03),
            "min_ev_2pct_any_age": base.replace(min_ev=0.02, max_quote_age=None),
            "min_ev_2pct_screened": base.replace(min_ev=0.02, screen=True),
            "min_ev_2pct_no_reduced_juice": base.replace(
                min_ev=0.02, books=("draftkings", "fanduel", "betmgm", "williamhill_us",
                                    "betrivers", "fanatics", "bovada", "mybookieag",
                                    "betus"))}
    for name, strategy in runs.items():
        t = time.perf_counter()
        bets = run_backtest(db, strategy).bets
        log(f"NFL {name}: {len(bets)} bets in {time.perf_counter() - t:.1f} s")
        unmoved = bets[~bets["line_moved"].astype(bool) & bets["p_close_same_line"].notna()]
        out[name] = {
            "overall": clv_block(bets), "by_book": by(bets, "book"),
            "by_market": by(bets, "market"),
            # Check of the line-aware conversion where no conversion is needed.
            "unmoved_line_aware_minus_same_line": _f(
                (unmoved["p_close"] - unmoved["p_close_same_line"]).mean(), 5),
        }
    return out


# -- NBA ----------------------------------------------------------------------------------------

def _prior_probs(board: pd.DataFrame, results: pd.DataFrame) -> np.ndarray:
    """P(over) of each quote under the player's prior alone (box scores before its date)."""
    from propsage.pricing import priors_from_results, prob_over_under_push

    out = np.full(len(board), np.nan)
    day = board["start_time"].dt.tz_convert("America/New_York").dt.normalize().dt.tz_localize(None)
    for d, idx in board.groupby(day).indices.items():
        pri = priors_from_results(results, as_of=d)
        rows = board.iloc[idx]
        key = pd.MultiIndex.from_arrays([rows["player_id"].astype(str), rows["market"].astype(str)])
        p = pri.reindex(key)
        ok = p["mean"].notna().to_numpy()
        if not ok.any():
            continue
        over, under, _ = prob_over_under_push(p[ok].reset_index(drop=True),
                                              rows["line_numeric"].to_numpy(float)[ok])
        vals = np.full(len(rows), np.nan)
        vals[ok] = over / (over + under)
        out[idx] = vals
    return out


def nba_forecasts(db: Path) -> dict:
    """Per quote at the decision board: prior model, stored model, market, coin; paired tests."""
    from propsage.backtest.consensus import consensus_prob
    from propsage.backtest.engine import offer_text
    from propsage.loaders.stats import load_nba_box_scores
    from propsage.pricing.market import no_vig

    shared = shared_data()
    results_all = load_nba_box_scores(
        shared / "nba-stats" / "player_game_logs_2024_25.csv.gz").results
    with open_source(db) as con:
        games = games_in_scope(con, Strategy())
        board = read_boards(con, games, [pd.Timedelta(hours=1)])
        text = offer_text(con, board.attrs["snapshot_table"], board["rid"].to_numpy())
        res = read_results(con, games)
    board = board.merge(text, on="rid").merge(res[["pmkey", "value"]], on="pmkey")
    board = board[board["over_price"].notna() & board["under_price"].notna()]
    y = (board["value"] > board["line_numeric"]).to_numpy(float)
    p_book, _ = no_vig(board)
    p_cons, n_cons = consensus_prob(board, ["decision", "game_id", "player_id", "market"],
                                    exclude_own=False, group_key="gkey")
    p_model = board["fair_over_prob"].to_numpy(float)
    p_prior = _prior_probs(board, results_all)
    ok = ~np.isnan(p_book) & ~np.isnan(p_cons) & ~np.isnan(p_model) & ~np.isnan(p_prior)
    games_k = board["game_id"].astype(str).to_numpy()[ok]
    y = y[ok]
    probs = {"prior_model": p_prior[ok], "stored_model": p_model[ok],
             "market_consensus": p_cons[ok], "book_no_vig": p_book[ok],
             "coin": np.full(int(ok.sum()), 0.5)}
    out: dict = {"quotes": int(ok.sum()), "games": int(len(set(games_k))),
                 "over_rate": _f(y.mean())}
    for name, p in probs.items():
        out[f"log_loss_{name}"] = _f(log_loss(p, y).mean(), 5)
        out[f"brier_{name}"] = _f(brier(p, y).mean(), 5)
    ll = {k: log_loss(v, y) for k, v in probs.items()}
    for a, b in [("market_consensus", "coin"), ("stored_model", "market_consensus"),
                 ("prior_model", "market_consensus"), ("stored_model", "prior_model"),
                 ("book_no_vig", "market_consensus")]:
        t = paired_test(ll[a], ll[b], games_k)
        out[f"{a}_minus_{b}"] = {k: _f(v, 5) if isinstance(v, float) else v for k, v in t.items()}
    out["calibration_stored_model"] = calibration(probs["stored_model"], y).round(4).to_dict(
        "records")
    out["calibration_market"] = calibration(probs["market_consensus"], y).round(4).to_dict(
        "records")
    return out


def nba_eval(db: Path) -> dict:
    """ROI, hit rate, calibration of two strategies; model vs market forecasts."""
    out: dict = {}
    with Store(db, read_only=True) as s:
        out["data"] = s.query(
            "SELECT count(*) AS snapshots, count(DISTINCT game_id) AS games, "
            "count(DISTINCT book) AS books, count(fair_over_prob) AS priced FROM odds_snapshots"
        ).iloc[0].to_dict()
    model = Strategy(name="nba model edge", model="stored", min_books=1, decide_before=("1h",),
                     screen=True)
    runs = {
        "model_edge_5pct": model.replace(min_ev=0.05),
        "model_edge_10pct": model.replace(min_ev=0.10),
        "model_edge_5pct_unscreened": model.replace(min_ev=0.05, screen=False),
        "consensus_edge_3pct": Strategy(name="nba soft vs consensus", model="consensus",
                                        min_ev=0.03, min_books=3, decide_before=("1h",),
                                        screen=True),
    }
    for name, strategy in runs.items():
        t = time.perf_counter()
        result = run_backtest(db, strategy)
        s = result.summary(reps=2000)
        log(f"NBA {name}: {len(result.bets)} bets in {time.perf_counter() - t:.1f} s")
        out[name] = {
            "bets": len(result.bets), "hit_rate": s["hit_rate"], "flat": s["flat"],
            "kelly": s["kelly"], "mean_ev_at_bet": s["mean_ev_at_bet"],
            "bet_calibration": s["bet_calibration"], "by_book": s["by_book"],
            "walk_forward": s["walk_forward"], "bet_scores": s.get("bet_scores"),
            "by_market": s["by_market"],
        }
    out["forecasts"] = nba_forecasts(db)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=DATA_DIR,
                    help="where the imported stores are kept (data/eval_*.duckdb)")
    ap.add_argument("--json", type=Path, help="write all numbers here")
    args = ap.parse_args()
    shared = shared_data()
    if shared is None:
        print("../shared/data is absent: nothing to evaluate")
        return 0
    args.work.mkdir(parents=True, exist_ok=True)
    report = {"nfl": nfl_eval(build_nfl(shared, args.work)),
              "nba": nba_eval(build_nba(shared, args.work))}
    text = json.dumps(report, indent=1, default=str)
    if args.json:
        args.json.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
