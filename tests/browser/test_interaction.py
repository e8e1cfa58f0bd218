"""Mouse, touch and keyboard navigation: pan, zoom, fit, Z and T steps, minimap."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import SIDEBAR, Server, open_viewer, press_keys, render
from playwright.sync_api import Page

pytestmark = pytest.mark.browser

GREY2 = [{"color": "#ffffff", "window": [0, 255], "visible": True, "gamma": 1, "invert": False, "colormap": "color"},
         {"visible": False}]


def view(page: Page) -> dict[str, Any]:
    return page.evaluate("() => window.chromatileViewer.getState().view")


def image_point(page: Page, sx: float, sy: float) -> list[float]:
    """Level-0 pixel under canvas CSS position (sx, sy) for the current view (canvas 256 x 256)."""
    v = view(page)
    return [v["center"][0] + (sx - 128) / v["zoom"], v["center"][1] + (sy - 128) / v["zoom"]]


def test_opens_fitted_and_centred(page: Page, server: Server) -> None:
    open_viewer(page, server, "big16")
    assert view(page) == {"center": [512, 512], "zoom": 0.25}


def test_drag_pans_by_the_pointer_distance(page: Page, server: Server) -> None:
    open_viewer(page, server, "big16")
    page.evaluate("() => window.chromatileViewer.setView({center: [300, 400], zoom: 2})")
    page.mouse.move(100, 100)
    page.mouse.down()
    for i in range(1, 6):
        page.mouse.move(100 + 10 * i, 100 + 4 * i)
    page.mouse.up()
    assert view(page) == {"center": [300 - 50 / 2, 400 - 20 / 2], "zoom": 2}


def test_wheel_zooms_about_the_cursor(page: Page, server: Server) -> None:
    open_viewer(page, server, "big16")
    page.evaluate("() => window.chromatileViewer.setView({center: [300, 400], zoom: 1})")
    page.mouse.move(60, 200)
    under = image_point(page, 60, 200)
    page.mouse.wheel(0, -300)  # one notch of 300 px up = zoom x2
    page.wait_for_function("window.chromatileViewer.getState().view.zoom > 1.5")
    assert view(page)["zoom"] == pytest.approx(2)
    assert image_point(page, 60, 200) == pytest.approx(under)


def test_double_click_zooms_in_about_the_point(page: Page, server: Server) -> None:
    open_viewer(page, server, "big16")
    page.evaluate("() => window.chromatileViewer.setView({center: [300, 400], zoom: 1})")
    under = image_point(page, 200, 50)
    page.mouse.dblclick(200, 50)
    assert view(page)["zoom"] == pytest.approx(2)
    assert image_point(page, 200, 50) == pytest.approx(under)


def test_keys_pan_zoom_and_fit(page: Page, server: Server) -> None:
    open_viewer(page, server, "big16")
    page.evaluate("() => window.chromatileViewer.setView({center: [300, 400], zoom: 2})")
    press_keys(page, "ArrowRight", "ArrowDown")  # the view moves right and down: the image slides left and up
    assert view(page) == {"center": [300 + 64 / 2, 400 + 64 / 2], "zoom": 2}
    page.keyboard.press("+")
    assert view(page)["zoom"] == pytest.approx(3)
    page.keyboard.press("-")
    page.keyboard.press("-")
    assert view(page)["zoom"] == pytest.approx(2 / 1.5)
    assert view(page)["center"] == pytest.approx([332, 432])  # keyboard zoom keeps the centre
    page.keyboard.press("0")
    assert view(page) == {"center": [512, 512], "zoom": 0.25}


def test_pinch_zooms_about_the_fingers(page: Page, server: Server) -> None:
    open_viewer(page, server, "big16")
    page.evaluate("() => window.chromatileViewer.setView({center: [300, 400], zoom: 1})")
    cdp = page.context.new_cdp_session(page)

    def touch(kind: str, points: list[tuple[float, float]]) -> None:
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [
            {"x": x, "y": y, "id": i} for i, (x, y) in enumerate(points)]})

    under = image_point(page, 60, 60)  # top left: the minimap is at the bottom right
    touch("touchStart", [(40, 60), (80, 60)])
    for step in range(1, 5):
        touch("touchMove", [(40 - 5 * step, 60), (80 + 5 * step, 60)])
    touch("touchEnd", [])
    page.wait_for_function("window.chromatileViewer.getState().view.zoom > 1.9")
    assert view(page)["zoom"] == pytest.approx(2, rel=0.02)  # fingers 40 px -> 80 px apart
    assert image_point(page, 60, 60) == pytest.approx(under, abs=1)


def test_minimap_click_moves_the_view(page: Page, server: Server) -> None:
    open_viewer(page, server, "big16")
    page.evaluate("() => window.chromatileViewer.setView({center: [300, 400], zoom: 2})")
    box = page.locator("canvas.ct-minimap").bounding_box()
    assert box and box["x"] + box["width"] <= 256 + 1  # drawn over the image, not over the side panel
    scale = 140 / 1024  # minimap pixels per level-0 pixel
    page.mouse.click(box["x"] + 0.75 * 1024 * scale, box["y"] + 0.25 * 1024 * scale)
    assert view(page)["center"] == pytest.approx([768, 256], abs=1 / scale)


def plane(page: Page) -> int:
    img = render(page, {"view": {"center": [64, 64], "zoom": 2}, "channels": GREY2})
    assert (img[:128, :128] == img[0, 0]).all()
    return int(img[0, 0, 0])


def test_modifier_wheel_steps_z_and_t(page: Page, server: Server) -> None:
    open_viewer(page, server, "timed8")
    state = page.evaluate("() => window.chromatileViewer.getState()")
    assert (state["z"], state["t"]) == (1, 0)  # middle Z, first T
    assert plane(page) == 15
    page.mouse.move(64, 64)
    page.keyboard.down("Shift")
    page.mouse.wheel(0, -100)  # shift + wheel up: previous slice
    page.keyboard.up("Shift")
    page.wait_for_function("window.chromatileViewer.getState().z === 0")
    assert plane(page) == 5
    page.keyboard.down("Shift")
    page.keyboard.down("Alt")
    page.mouse.wheel(0, 100)  # shift + alt + wheel down: next time point
    page.keyboard.up("Alt")
    page.keyboard.up("Shift")
    page.wait_for_function("window.chromatileViewer.getState().t === 1")
    assert plane(page) == 45
    assert view(page) == {"center": [64, 64], "zoom": 2}, "stepping does not zoom"


def test_t_keys_slider_and_prefetch(page: Page, server: Server) -> None:
    open_viewer(page, server, "timed8")
    assert page.locator('.ct-slider[data-axis="T"]').is_visible()
    press_keys(page, "]", "]", "[")
    assert page.evaluate("() => window.chromatileViewer.getState().t") == 1
    assert plane(page) == 55
    page.locator('.ct-slider[data-axis="T"] input').fill("3")
    assert plane(page) == 135
    assert page.locator('.ct-slider[data-axis="T"] .ct-slider-value').text_content() == "4 / 4"
    # Still at t=3: the previous time point is prefetched, so stepping back is resident.
    page.wait_for_function("window.chromatileViewer.settled")
    before = page.evaluate("() => window.chromatileViewer.stats.tStepsResident")
    press_keys(page, "[")  # the slider had the focus
    assert page.evaluate("() => window.chromatileViewer.stats.tStepsResident") == before + 1
    assert plane(page) == 95


def test_z_slider_hidden_for_single_plane_images(page: Page, server: Server) -> None:
    open_viewer(page, server, "six8")
    assert page.locator('.ct-slider[data-axis="Z"]').is_hidden()
    assert page.locator('.ct-slider[data-axis="T"]').is_hidden()


def test_sidebar_width_matches_conftest(page: Page, server: Server) -> None:
    open_viewer(page, server, "six8")
    box = page.locator(".ct-sidebar").bounding_box()
    assert box and box["width"] == SIDEBAR
