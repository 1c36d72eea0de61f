"""The live dashboard in a real browser: filters, the streaming chart, a clean console."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

CHART_POINTS = """() => {
  const doc = window.Bokeh && window.Bokeh.documents[0];
  if (!doc) return -1;
  let n = 0;
  for (const m of doc._all_models.values())
    if (m.name && m.name.startsWith("line-") && m.data && m.data.t) n += m.data.t.length;
  return n;
}"""


def n_rows(page) -> int:  # noqa: ANN001
    return int(page.locator(".ps-nrows").inner_text().replace(",", ""))


def test_a_player_search_narrows_the_rows_to_that_player(served_app, page, dash,
                                                          console_errors, artifacts):
    dash.open(served_app)
    total = n_rows(page)
    cells = f"{dash.TABLE} .tabulator-cell[tabulator-field='player']"
    teams = page.locator(f"{dash.TABLE} .tabulator-cell[tabulator-field='team']")
    row = next(i for i, t in enumerate(teams.all_inner_texts()) if t.strip())  # a player prop
    needle = page.locator(cells).nth(row).inner_text().strip().split()[-1].lower()[:4]

    page.get_by_placeholder("search a player…").fill(needle)

    def narrowed() -> list[str]:
        players = page.locator(cells).all_inner_texts()
        ok = players and n_rows(page) < total and all(needle in p.lower() for p in players)
        return players if ok else []

    assert dash.wait_until(narrowed, timeout=10)
    page.screenshot(path=str(artifacts / "filtered.png"), full_page=True)
    assert console_errors == []


def test_clicking_a_live_row_opens_a_chart_that_receives_streamed_points(
        served_app, page, dash, console_errors, artifacts):
    dash.open(served_app)
    page.locator(".bk-input-group", has_text="Sort by").locator("select").select_option(
        "Recently updated")
    dash.rows().first.wait_for()
    dash.rows().first.locator(".tabulator-cell[tabulator-field='player']").click()
    page.locator(".ps-chart-title").wait_for(timeout=10_000)
    first = dash.wait_until(lambda: page.evaluate(CHART_POINTS) > 0, timeout=10)
    assert first, "the chart shows the prop's history"
    before = page.evaluate(CHART_POINTS)

    grew = dash.wait_until(lambda: page.evaluate(CHART_POINTS) > before, timeout=25)

    page.screenshot(path=str(artifacts / "chart.png"), full_page=True)
    assert grew, "no point was streamed to the chart within 25 s"
    assert console_errors == []
