"""Shareable URL state: view, Z, T, blend and channel settings survive a reload from the URL."""

from __future__ import annotations

import pytest
from conftest import Server, open_viewer, render
from playwright.sync_api import Page

pytestmark = pytest.mark.browser

STATE = {
    "view": {"center": [40.5, 21.25], "zoom": 3.5},
    "z": 2,
    "blend": "max",
    "channels": [
        {"color": "#ff8000", "window": [1200, 41000.5], "visible": True, "gamma": 0.7, "invert": True, "colormap": "fire"},
        {"color": "#00aaff", "window": [0, 30000], "visible": False, "gamma": 1.25, "invert": False, "colormap": "viridis"},
    ],
}


def test_state_round_trips_through_the_url(page: Page, server: Server) -> None:
    open_viewer(page, server, "ramp16")
    shown = render(page, STATE)
    page.wait_for_function("location.hash.includes('zoom=3.5')")
    url = page.url
    assert url.startswith(f"{server.url}/view/ramp16#")
    again = page.context.new_page()
    again.goto(url)
    again.wait_for_function("window.chromatileViewer !== undefined")
    restored = render(again)
    state = again.evaluate("() => window.chromatileViewer.getState()")
    assert state == {**STATE, "t": 0}
    assert (restored == shown).all(), "the same picture"


def test_t_round_trips_and_bad_parts_are_ignored(page: Page, server: Server) -> None:
    page.goto(f"{server.url}/view/timed8#t=2&z=0&zoom=nope&blend=nosuch&ch=1,zzzzzz,5,60,2,1,grey;banana")
    page.wait_for_function("window.chromatileViewer !== undefined")
    page.evaluate("() => window.chromatileViewer.whenIdle()")
    state = page.evaluate("() => window.chromatileViewer.getState()")
    assert (state["t"], state["z"]) == (2, 0)
    assert state["blend"] == "additive"
    assert state["view"] == {"center": [32, 32], "zoom": 4}, "fitted: the view part was malformed"
    ch0 = state["channels"][0]
    assert (ch0["window"], ch0["gamma"], ch0["invert"], ch0["colormap"]) == ([5, 60], 2, True, "grey")
    assert state["channels"][1]["window"] != [5, 60]
    assert not page.locator(".ct-message").count()
