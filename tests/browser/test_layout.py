"""Small screens and foreign stores: the panel folds below 700 px, the minimap shrinks or hides and
never sits under the scale bar, and a store without our thumbnail still gets a minimap picture."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numcodecs
import numpy as np
import pytest
from conftest import Server, StaticHost, open_viewer
from playwright.sync_api import Browser, Page
from test_reader import write_store

pytestmark = pytest.mark.browser


@pytest.fixture
def plain_page(browser: Browser) -> Iterator[Page]:
    """A page with the viewer's default layout (no docked-panel override of the other tests)."""
    context = browser.new_context(viewport={"width": 600, "height": 480}, device_scale_factor=1)
    page = context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))  # type: ignore[attr-defined]
    yield page
    context.close()


def box(page: Page, selector: str) -> dict[str, Any] | None:
    return page.evaluate("(s) => { const e = document.querySelector(s); if (!e) return null;"
                         " const r = e.getBoundingClientRect(); const cs = getComputedStyle(e);"
                         " return cs.display === 'none' ? null : {x: r.x, y: r.y, width: r.width, height: r.height,"
                         " right: r.right, bottom: r.bottom}; }", selector)


def test_below_700_px_the_panel_folds_behind_a_toggle(plain_page: Page, server: Server) -> None:
    page = plain_page
    open_viewer(page, server, "big16")
    assert box(page, ".ct-sidebar") is None, "folded away"
    assert page.evaluate("() => window.chromatileViewer.canvas.width") == 600, "the image gets the whole width"
    toggle = page.locator(".ct-panel-toggle")
    assert toggle.is_visible() and toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    panel = box(page, ".ct-sidebar")
    assert panel and panel["right"] == 600 and panel["width"] <= 280, panel
    assert toggle.get_attribute("aria-expanded") == "true"
    page.locator(".ct-sidebar .ct-fit").click()  # the panel works while open
    toggle.click()
    assert box(page, ".ct-sidebar") is None
    # wide again: the panel is docked beside the image and the toggle goes
    page.set_viewport_size({"width": 1000, "height": 480})
    page.wait_for_function("() => !document.querySelector('.ct-viewer').classList.contains('ct-narrow')")
    panel = box(page, ".ct-sidebar")
    assert panel and panel["width"] == 280 and not toggle.is_visible()
    page.wait_for_function("() => window.chromatileViewer.canvas.width === 720")
    assert not page.errors  # type: ignore[attr-defined]


def test_the_minimap_shrinks_or_hides_and_the_scale_bar_never_runs_under_it(plain_page: Page, server: Server) -> None:
    page = plain_page
    open_viewer(page, server, "big16")
    page.evaluate("async () => { const v = window.chromatileViewer; v.setView({center: [500, 500], zoom: 0.61});"
                  " v.setState({channels: [{visible: true}, {visible: true}]}); await v.whenIdle(); }")
    stage = box(page, ".ct-stage")
    assert stage
    page.mouse.move(stage["x"] + 100, stage["y"] + 100)  # a readout table too
    page.wait_for_selector(".ct-readout-value")
    for width, height in ((600, 480), (400, 300), (1000, 480), (190, 300)):
        page.set_viewport_size({"width": width, "height": height})
        page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
        minimap = box(page, ".ct-minimap")
        overlay = box(page, ".ct-overlay")
        bar = box(page, ".ct-scalebar")
        assert overlay and bar
        if width < 200:
            assert minimap is None, "hidden on a stage this small"
            continue
        assert minimap, width
        if width < 700:
            assert minimap["width"] <= 82, f"shrunk at {width} px: {minimap}"
        else:
            assert minimap["width"] == 142
        for part in (overlay, bar, box(page, ".ct-readout")):
            assert part and part["right"] <= minimap["x"], f"{part} runs under the minimap {minimap} at {width} px"


def test_a_store_without_our_thumbnail_gets_a_minimap_picture(page: Page, server: Server, static_host: StaticHost) -> None:
    data = np.full((1, 96, 128), 200, np.uint8)
    data[0, :48, :64] = 40  # a dark top-left quarter
    write_store(static_host.root / "nothumb.zarr", data, "cyx", (1, 32, 32), numcodecs.GZip(), "/", levels=2)
    page.goto(f"{server.url}/view?url={static_host.url}/nothumb.zarr")
    page.wait_for_function("window.chromatileViewer !== undefined")
    page.evaluate("() => window.chromatileViewer.whenIdle()")
    page.wait_for_function("document.querySelector('.ct-minimap').dataset.thumbnail === 'frame'")
    px = page.evaluate("""() => { const c = document.querySelector('.ct-minimap'); const g = c.getContext('2d');
        const s = Math.min(c.width / 128, c.height / 96);
        const at = (x, y) => Array.from(g.getImageData(Math.round(x * s), Math.round(y * s), 1, 1).data.slice(0, 3));
        return {dark: at(20, 20), bright: at(100, 70)}; }""")
    assert all(abs(v - 40) <= 3 for v in px["dark"]), px
    assert all(abs(v - 200) <= 3 for v in px["bright"]), px
    # our own stores keep the thumbnail made at ingest
    open_viewer(page, server, "ramp16")
    page.wait_for_function("document.querySelector('.ct-minimap').dataset.thumbnail === 'store'")
