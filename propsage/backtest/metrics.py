"""What a backtest earned and how well its model forecast.

- P&L under flat stakes and under fractional Kelly (stake = min(fraction x Kelly, cap) x the
  bankroll at decision time; a bet's profit counts toward the bankroll once its game is
  settled, taken as ``SETTLE_AFTER`` after the start).
- ROI = profit / staked with a 95 % bootstrap CI resampling games (bets on one game share
  its noise).
- Hit rate (wins / decided bets, Wilson 95 %) against the break-even rate of the prices taken.
- Calibration (reliability) of the model's probability of the side bet; Brier and log loss of
  the model vs the market's own no-vig probability on every graded quote at the last decision
  time, with a paired, game-clustered test of the difference.
- Walk-forward: bets split by decision time into consecutive folds; for each fold the minimum
  EV is chosen on all earlier folds (best flat ROI) and applied to that fold only.
- Breakdown by market and by book.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from propsage.backtest.clv import clv_by, clv_summary
from propsage.backtest.grading import profit_per_unit
from propsage.backtest.stats import (
    brier,
    cluster_bootstrap_ratio,
    log_loss,
    paired_test,
    wilson_interval,
)

if TYPE_CHECKING:
    from propsage.backtest.engine import BacktestResult
    from propsage.backtest.strategy import Strategy

SETTLE_AFTER = pd.Timedelta(hours=4)
WALK_FORWARD_GRID = (0.0, 0.01, 0.02, 0.03, 0.05, 0.075, 0.10, 0.15)


def kelly_fraction(p: np.ndarray, decimal_odds: np.ndarray) -> np.ndarray:
    """Full-Kelly stake share of a binary bet, (p d - 1) / (d - 1), floored at 0."""
    p = np.asarray(p, dtype=float)
    d = np.asarray(decimal_odds, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.clip((p * d - 1.0) / (d - 1.0), 0.0, None)


def stake_bets(bets: pd.DataFrame, strategy: Strategy) -> pd.DataFrame:
    """Bets with flat and Kelly stakes and profits (ungraded bets stake nothing)."""
    out = bets.copy()
    n = len(out)
    graded = (out["outcome"] != "ungraded").to_numpy() if n else np.zeros(0, bool)
    unit = profit_per_unit(out["outcome"], out["decimal"]) if n else np.zeros(0)
    out["stake_flat"] = np.where(graded, strategy.stake, 0.0)
    out["profit_flat"] = np.where(graded, unit * strategy.stake, 0.0)
    f = np.minimum(strategy.kelly_fraction * kelly_fraction(out["p_model"], out["decimal"]),
                   strategy.max_stake_fraction) if n else np.zeros(0)
    stake_k = np.zeros(n)
    bank_at = np.zeros(n)
    if n:
        decided = out["decided_at"].to_numpy("datetime64[us]")
        settle = (out["start_time"] + SETTLE_AFTER).to_numpy("datetime64[us]")
        order = np.argsort(settle, kind="stable")
        bank, j = strategy.bankroll, 0
        profit_k = np.zeros(n)
        for i in np.argsort(decided, kind="stable"):
            while j < n and settle[order[j]] <= decided[i]:
                bank += profit_k[order[j]]
                j += 1
            bank_at[i] = bank
            stake_k[i] = f[i] * max(bank, 0.0) if graded[i] else 0.0
            profit_k[i] = stake_k[i] * unit[i] if graded[i] else 0.0
        out["profit_kelly"] = profit_k
    else:
        out["profit_kelly"] = np.zeros(0)
    out["kelly_share"] = f
    out["stake_kelly"] = stake_k
    out["bankroll_at_bet"] = bank_at
    out["settled_at"] = out["start_time"] + SETTLE_AFTER
    return out


def equity_curve(bets: pd.DataFrame, staking: str = "flat", bankroll: float = 0.0
                 ) -> pd.DataFrame:
    """Cumulative profit (plus ``bankroll``) by settlement time, one row per graded bet."""
    g = bets[bets["outcome"] != "ungraded"].sort_values("settled_at", kind="stable")
    return pd.DataFrame({"settled_at": g["settled_at"].to_numpy(),
                         "equity": bankroll + g[f"profit_{staking}"].cumsum().to_numpy(),
                         "bet": np.arange(1, len(g) + 1)})


def max_drawdown(equity: np.ndarray, start: float) -> float:
    """Largest fall from a running peak (same units as equity)."""
    if len(equity) == 0:
        return 0.0
    path = np.concatenate([[start], equity])
    return float(np.max(np.maximum.accumulate(path) - path))


def pnl(bets: pd.DataFrame, staking: str = "flat", *, bankroll: float = 0.0,
        reps: int = 2000) -> dict[str, Any]:
    """Staked, profit, ROI with a game-bootstrap 95 % CI, and max drawdown."""
    g = bets[bets["outcome"] != "ungraded"]
    staked = float(g[f"stake_{staking}"].sum())
    profit = float(g[f"profit_{staking}"].sum())
    lo, hi = cluster_bootstrap_ratio(g[f"profit_{staking}"], g[f"stake_{staking}"],
                                     g["game_id"], reps=reps) if len(g) else (math.nan,) * 2
    curve = equity_curve(bets, staking, bankroll)
    return {"staked": staked, "profit": profit,
            "roi": profit / staked if staked > 0 else math.nan, "roi_ci": [lo, hi],
            "max_drawdown": max_drawdown(curve["equity"].to_numpy(), bankroll),
            "final": bankroll + profit}


def hit_rate(bets: pd.DataFrame) -> dict[str, Any]:
    """Wins / (wins + losses) with a Wilson 95 % CI, against the prices' break-even rate."""
    d = bets[bets["outcome"].isin(["win", "loss"])]
    n = len(d)
    wins = int((d["outcome"] == "win").sum())
    lo, hi = wilson_interval(wins, n)
    return {"decided": n, "wins": wins, "pushes": int((bets["outcome"] == "push").sum()),
            "ungraded": int((bets["outcome"] == "ungraded").sum()),
            "hit_rate": wins / n if n else math.nan, "hit_rate_ci": [lo, hi],
            "break_even": float((1.0 / d["decimal"]).mean()) if n else math.nan,
            "mean_model_prob": float(d["p_model"].mean()) if n else math.nan}


def calibration(p: np.ndarray, y: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Reliability table: per equal-width probability bin, mean forecast, observed rate, CI."""
    p = np.asarray(p, dtype=float)
    y = np.asarray(y, dtype=float)
    ok = ~np.isnan(p) & ~np.isnan(y)
    p, y = p[ok], y[ok]
    edges = np.round(np.linspace(0, 1, bins + 1), 12)
    which = np.clip(np.digitize(p, edges) - 1, 0, bins - 1)
    rows = []
    for b in range(bins):
        m = which == b
        n = int(m.sum())
        if n == 0:
            continue
        k = int(y[m].sum())
        lo, hi = wilson_interval(k, n)
        rows.append({"bin_low": edges[b], "bin_high": edges[b + 1], "n": n,
                     "p_mean": float(p[m].mean()), "observed": k / n, "ci_low": lo,
                     "ci_high": hi})
    return pd.DataFrame(rows, columns=["bin_low", "bin_high", "n", "p_mean", "observed",
                                       "ci_low", "ci_high"])


def forecast_scores(forecasts: pd.DataFrame) -> dict[str, Any]:
    """Brier and log loss of model and market on graded quotes, with paired game-clustered tests.

    A negative ``mean_diff`` means the model's loss is lower (better) than the market's.
    """
    if forecasts.empty or "won" not in forecasts:
        return {"n": 0}
    f = forecasts[forecasts["won"].notna()]
    if f.empty:
        return {"n": 0}
    y = f["won"].to_numpy(float)
    pm, pk = f["p_model"].to_numpy(float), f["p_market"].to_numpy(float)
    games = f["game_id"]
    ll_m, ll_k = log_loss(pm, y), log_loss(pk, y)
    br_m, br_k = brier(pm, y), brier(pk, y)
    coin = log_loss(np.full(len(y), 0.5), y)
    return {
        "n": int(len(f)), "games": int(games.nunique()),
        "log_loss_model": float(ll_m.mean()), "log_loss_market": float(ll_k.mean()),
        "log_loss_coin": float(coin.mean()),
        "brier_model": float(br_m.mean()), "brier_market": float(br_k.mean()),
        "log_loss_diff": paired_test(ll_m, ll_k, games),
        "brier_diff": paired_test(br_m, br_k, games),
        "market_vs_coin": paired_test(ll_k, coin, games),
    }


def breakdown(bets: pd.DataFrame, key: str) -> pd.DataFrame:
    """Per market (or book...): bets, flat ROI, hit rate, mean EV at bet, and CLV."""
    if bets.empty:
        return pd.DataFrame()
    rows = []
    for k, b in bets.groupby(bets[key].astype(str), sort=True):   # text order, always
        g = b[b["outcome"] != "ungraded"]
        staked = float(g["stake_flat"].sum())
        d = g[g["outcome"].isin(["win", "loss"])]
        rows.append({key: k, "bets": len(b), "graded": len(g),
                     "roi": float(g["profit_flat"].sum()) / staked if staked else math.nan,
                     "hit_rate": float((d["outcome"] == "win").mean()) if len(d) else math.nan,
                     "break_even": float((1 / d["decimal"]).mean()) if len(d) else math.nan,
                     "mean_ev": float(b["ev"].mean())})
    out = pd.DataFrame(rows)
    if "clv_ev" in bets:
        clv = clv_by(bets, key)[[key, "beat_close", "clv_ev_mean", "line_moved"]]
        out = out.merge(clv, on=key, how="left")
    return out


def walk_forward(bets: pd.DataFrame, n_splits: int = 4,
                 grid: tuple[float, ...] = WALK_FORWARD_GRID, floor: float = 0.0
                 ) -> pd.DataFrame:
    """Per later fold: the min EV chosen on earlier folds (best flat ROI) and its ROI there.

    ``floor`` is the strategy's own min EV: thresholds below it select nothing new. Raising the
    threshold on the chosen bets approximates re-running the strategy with it.
    """
    grid = tuple(sorted({floor, *(x for x in grid if x > floor)}))
    g = bets[bets["outcome"] != "ungraded"].sort_values("decided_at", kind="stable")
    if len(g) < 2 * (n_splits + 1):
        return pd.DataFrame()
    folds = np.array_split(np.arange(len(g)), n_splits + 1)
    rows = []
    for k in range(1, n_splits + 1):
        train = g.iloc[np.concatenate(folds[:k])]
        test = g.iloc[folds[k]]
        best, best_roi = grid[0], -math.inf
        for thr in grid:
            t = train[train["ev"] >= thr]
            if len(t) < 10:
                continue
            roi = t["profit_flat"].sum() / t["stake_flat"].sum()
            if roi > best_roi:
                best, best_roi = thr, roi
        sel = test[test["ev"] >= best]
        staked = sel["stake_flat"].sum()
        rows.append({
            "fold": k, "start": test["decided_at"].min(), "end": test["decided_at"].max(),
            "min_ev": best, "train_roi": best_roi if best_roi > -math.inf else math.nan,
            "bets": len(sel),
            "roi": float(sel["profit_flat"].sum() / staked) if staked else math.nan,
            "clv_ev_mean": float(sel["clv_ev"].mean()) if "clv_ev" in sel and len(sel)
            else math.nan,
        })
    return pd.DataFrame(rows)


def summarize(result: BacktestResult, *, reps: int = 2000) -> dict[str, Any]:
    """Every headline number of a backtest, JSON-able (tables as lists of records)."""
    bets, s = result.bets, result.strategy
    out: dict[str, Any] = {"strategy": s.to_dict(), "info": dict(result.info)}
    out["hit_rate"] = hit_rate(bets)
    out["flat"] = pnl(bets, "flat", reps=reps)
    out["kelly"] = pnl(bets, "kelly", bankroll=s.bankroll, reps=reps)
    out["mean_ev_at_bet"] = float(bets["ev"].mean()) if len(bets) else math.nan
    out["clv"] = clv_summary(bets)
    decided = bets[bets["won"].notna()] if len(bets) else bets
    out["bet_calibration"] = _records(calibration(decided["p_model"], decided["won"])) \
        if len(decided) else []
    if len(decided):
        out["bet_scores"] = {
            "brier_model": float(brier(decided["p_model"], decided["won"]).mean()),
            "log_loss_model": float(log_loss(decided["p_model"], decided["won"]).mean())}
    out["forecasts"] = forecast_scores(result.forecasts)
    if len(result.forecasts) and "won" in result.forecasts:
        f = result.forecasts[result.forecasts["won"].notna()]
        out["forecast_calibration"] = {
            "model": _records(calibration(f["p_model"], f["won"])),
            "market": _records(calibration(f["p_market"], f["won"]))}
    out["by_market"] = _records(breakdown(bets, "market"))
    out["by_book"] = _records(breakdown(bets, "book"))
    out["clv_by_book"] = _records(clv_by(bets, "book")) if len(bets) else []
    out["walk_forward"] = _records(walk_forward(bets, floor=s.min_ev))
    return out


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    if df is None or df.empty:
        return []
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = out[c].astype(str)
    return [{k: _plain(v) for k, v in r.items()} for r in out.to_dict("records")]


def _plain(v: Any) -> Any:
    if isinstance(v, np.integer | np.bool_):
        return v.item()
    if isinstance(v, float | np.floating):
        return None if math.isnan(float(v)) else float(v)
    return v
