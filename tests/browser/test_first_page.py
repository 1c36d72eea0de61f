"""Foundation: the served page shows a chosen game's board and changes in place."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_a_chosen_games_board_changes_in_place_without_reload(
        served_app, page, dash, console_errors, artifacts):
    dash.open(served_app)
    assert dash.rows().count() > 0
    assert "provider mock" in page.locator(".ps-status").inner_text()

    game = dash.select("Game")
    live = [o for o in game.locator("option").all_inner_texts() if "(live)" in o]
    assert live, "the mock market has games under way"
    game.select_option(label=live[0])
    dash.wait_until(lambda: page.locator(".ps-game").count() == 1, timeout=10)
    page.evaluate("window.__psMarker = 'same page'")
    before = dash.table_text()

    changed = dash.wait_until(lambda: dash.table_text() != before, timeout=15)

    page.screenshot(path=str(artifacts / "first_page.png"), full_page=True)
    assert changed, "no cell of the board changed within 15 s"
    assert page.evaluate("window.__psMarker") == "same page"
    assert page.locator(".ps-live").inner_text().startswith("● Live")
    assert console_errors == []
