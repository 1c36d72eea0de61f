"""``propsage backtest``: strategy in, HTML or JSON report out."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from propsage.cli import main
from propsage.domain import Game, as_offer_frame
from propsage.store import Store

START = pd.Timestamp("2025-01-10T00:00:00Z")


@pytest.fixture
def history(db_path):
    """Two games where fanduel hangs a soft over against three books at -110/-110."""
    with Store(db_path) as store:
        for i, gid in enumerate(("g1", "g2")):
            start = START + pd.Timedelta(days=i)
            store.upsert_games([Game(id=gid, league="nba", start_time=start.to_pydatetime(),
                                     home_team="H", away_team="A")], start)
            t = start - pd.Timedelta(hours=8)
            rows = [{"game_id": gid, "league": "nba", "player_name": "Cam Davis",
                     "market": "player_points", "book": b, "line": 20.5, "over_price": o,
                     "under_price": u, "fetched_at": t}
                    for b, o, u in [("draftkings", -110, -110), ("betmgm", -110, -110),
                                    ("williamhill_us", -110, -110), ("fanduel", 120, -150)]]
            store.apply_offers(as_offer_frame(rows), now=t)
            store.write_results(pd.DataFrame({"game_id": [gid], "player_id": ["cam-davis"],
                                              "market": ["player_points"],
                                              "value": [25.0 - 10 * i]}))
    return db_path


def test_json_report_holds_the_summary_and_the_bets(history, tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["backtest", "--db", str(history), "--strategy", "edge", "--out", str(out),
                 "--no-progress"]) == 0
    report = json.loads(out.read_text())
    assert report["bets_total"] == 2
    assert [b["outcome"] for b in report["bets"]] == ["win", "loss"]
    assert report["flat"]["roi"] == pytest.approx((1.2 - 1) / 2)
    assert "2 bets on 2 games" in capsys.readouterr().out


def test_html_report_has_the_plots(history, tmp_path):
    out = tmp_path / "r.html"
    assert main(["backtest", "--db", str(history), "--out", str(out), "--no-progress"]) == 0
    html = out.read_text()
    for title in ("Equity curve", "Calibration of bets", "CLV as EV at the close"):
        assert title in html


def test_a_strategy_file_and_overrides_are_applied(history, tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text('name = "dk only"\nbooks = ["draftkings"]\nmin_ev = 0.05\n')
    out = tmp_path / "r.json"
    assert main(["backtest", "--db", str(history), "--strategy", str(spec), "--out", str(out),
                 "--no-progress"]) == 0
    assert json.loads(out.read_text())["bets_total"] == 0
    assert main(["backtest", "--db", str(history), "--strategy", str(spec), "--books",
                 "fanduel", "--out", str(out), "--no-progress"]) == 0
    assert json.loads(out.read_text())["bets_total"] == 2


def test_bad_arguments_fail_with_a_message(history, tmp_path, capsys):
    assert main(["backtest", "--db", str(history), "--out", str(tmp_path / "r.txt")]) == 2
    assert main(["backtest", "--db", str(tmp_path / "missing.duckdb"),
                 "--out", str(tmp_path / "r.json")]) == 2
    assert "no DuckDB file" in capsys.readouterr().err
