"""The embed API from a page on another origin: createViewer(element, {source}) and its methods."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Server, StaticHost, assert_close, canvas_size, render
from playwright.sync_api import Page
from viewer_reference import composite, view_of

pytestmark = pytest.mark.browser

PAGE = """<!doctype html>
<html><head><link rel="stylesheet" href="{server}/viewer/viewer.css"></head>
<body style="margin:0">
<div id="box" style="position:absolute;left:0;top:0;width:300px;height:200px"></div>
<script type="module">
  import {{ createViewer }} from '{server}/viewer/dist/chromatile.js';
  window.events = [];
  const v = createViewer(document.getElementById('box'), {{ source: '{server}/data/ramp16.ome.zarr', ui: false }});
  v.on('view', (view) => window.events.push(['view', view]));
  v.on('state', (state) => window.events.push(['state', state.z]));
  window.chromatileViewer = v;  // what render() in conftest drives
</script></body></html>
"""


@pytest.fixture
def embedded(page: Page, server: Server, static_host: StaticHost) -> Page:
    (static_host.root / "embed.html").write_text(PAGE.format(server=server.url))
    page.set_viewport_size({"width": 400, "height": 300})
    page.goto(f"{static_host.url}/embed.html")
    page.wait_for_function("window.chromatileViewer !== undefined")
    page.evaluate("() => window.chromatileViewer.whenIdle()")
    return page


def api(page: Page, expr: str) -> Any:
    return page.evaluate(f"() => window.chromatileViewer.{expr}")


def test_embedded_viewer_opens_fitted_and_draws_the_reference(embedded: Page, server: Server) -> None:
    page = embedded
    assert canvas_size(page) == (300, 200)
    state = api(page, "getState()")
    assert state["view"] == {"center": [65, 48], "zoom": pytest.approx(200 / 96)}
    assert (state["z"], state["t"]) == (1, 0)
    assert not page.locator(".ct-sidebar").count(), "ui: false"
    got = render(page)
    planes = server.arrays["ramp16"][:, 1]
    expected = composite(planes, state["channels"], state["blend"])
    assert_close(got, view_of(expected, state["view"]["center"], state["view"]["zoom"], 300, 200))
    assert not page.errors


def test_api_methods_and_events(embedded: Page, server: Server) -> None:
    page = embedded
    before = api(page, "getState().channels[0]")
    api(page, "setChannel(0, {color: '#ABCDEF', gamma: 2})")
    after = api(page, "getState().channels[0]")
    assert after == {**before, "color": "#abcdef", "gamma": 2}, "fields left out keep their value"
    with pytest.raises(Exception, match="color must be"):
        api(page, "setChannel(0, {color: 'red'})")
    with pytest.raises(Exception, match="unknown colormap"):
        api(page, "setChannel(0, {colormap: 'rainbow'})")
    page.evaluate("() => { window.events.length = 0; }")
    api(page, "setZ(2)")
    api(page, "setZ(99)")  # clamped to the last plane: no change, no event
    api(page, "setT(5)")  # one time point only
    api(page, "setView({center: [10, 20], zoom: 4})")
    assert api(page, "getState()")["view"] == {"center": [10, 20], "zoom": 4}
    assert (api(page, "getState().z"), api(page, "getState().t")) == (2, 0)
    events = page.evaluate("() => window.events")
    assert ["state", 2] in events and ["view", {"center": [10, 20], "zoom": 4}] in events
    channels = [{"color": "#ffffff", "window": [0, 65535], "visible": True, "gamma": 1, "invert": False,
                 "colormap": "grey"}, {"visible": False}]
    got = render(page, {"channels": channels})
    state = api(page, "getState()")
    assert_close(got, view_of(composite(server.arrays["ramp16"][:, 2], state["channels"], "additive"), [10, 20], 4,
                              300, 200))
    api(page, "fit()")
    assert api(page, "getState().view")["center"] == [65, 48]
    idle = page.evaluate("async () => { const v = window.chromatileViewer; v.setZ(0); await v.whenIdle();"
                         " return v._viewer.complete; }")
    assert idle is True
