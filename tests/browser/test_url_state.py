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
    assert state == {**STATE, "t": 0, "shader": None}
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
    text = page.locator(".ct-message-state").text_content() or ""
    assert text.startswith("Part of the link was ignored:")
    for part in ('zoom "nope" is not a number', 'blend mode "nosuch" is unknown',
                 'channel 1: colour "zzzzzz" is not rrggbb', 'channel 2: "banana" is not a channel entry'):
        assert part in text


def test_every_ignored_part_of_a_link_is_named(page: Page, server: Server) -> None:
    # A window with lo > hi and 5 channel entries for the 2 channels of ramp16: the rest of the link is used.
    ch = "1,ff0000,900,100,1,0,color;0,00ff00,10,20,1,0,color;1,ffffff,1,2,1,0,color;1,ffffff,1,2,1,0,color;" \
         "1,ffffff,1,2,1,0,color"
    page.goto(f"{server.url}/view/ramp16#z=1&ch={ch}")
    page.wait_for_selector(".ct-message-state")
    text = page.locator(".ct-message-state").text_content() or ""
    assert "channel 1: window 900..100 has its minimum above its maximum" in text
    assert "5 channel entries for an image of 2 channels: the last 3 were not used" in text
    state = page.evaluate("() => window.chromatileViewer.getState()")
    assert state["channels"][0]["color"] == "#ff0000" and state["channels"][0]["window"] != [900, 100]
    assert state["channels"][1] == {**state["channels"][1], "visible": False, "window": [10, 20]}
    assert state["z"] == 1
