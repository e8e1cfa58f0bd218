"""Z navigation shows the right plane, and still viewers prefetch neighbouring planes."""

from __future__ import annotations

import pytest
from conftest import Server, open_viewer, press_keys, render
from playwright.sync_api import Page

pytestmark = pytest.mark.browser

GREY = [{"color": "#ffffff", "window": [0, 255], "visible": True, "gamma": 1, "invert": False, "colormap": "color"},
        {"color": "#ffffff", "window": [0, 255], "visible": False, "gamma": 1, "invert": False, "colormap": "color"}]
VIEW = {"center": [64, 64], "zoom": 2}  # the 64 x 64 plane fills the top-left 128 x 128 canvas pixels


def plane_value(page: Page, z: int | None = None) -> int:
    img = render(page, {"view": VIEW, "channels": GREY, **({"z": z} if z is not None else {})})
    block = img[:128, :128]
    assert (block == block[0, 0]).all(), "the plane is uniform"
    assert (img[128:, :] == 0).all() and (img[:, 128:] == 0).all(), "black outside the image"
    return int(block[0, 0, 0])


def test_z_steps_show_the_right_plane(page: Page, server: Server) -> None:
    open_viewer(page, server, "late")
    assert page.evaluate("() => window.chromatileViewer.getState().z") == 6  # middle plane by default
    for z in (6, 0, 11, 3):
        assert plane_value(page, z) == 10 * (z + 1)
    # Keyboard: '.' and PageUp go up, ',' and PageDown down.
    press_keys(page, ".", "PageUp", ",")
    assert page.evaluate("() => window.chromatileViewer.getState().z") == 4
    assert plane_value(page) == 50
    # The Z slider.
    page.locator('.ct-slider[data-axis="Z"] input').fill("9")
    assert plane_value(page) == 100


def test_still_viewer_prefetches_next_planes(page: Page, server: Server) -> None:
    open_viewer(page, server, "late")
    render(page, {"view": VIEW, "channels": GREY, "z": 2})
    for step in range(4):
        # Still: wait for the prefetch of the neighbouring planes to finish, then step.
        page.wait_for_function("window.chromatileViewer.settled")
        before = page.evaluate("() => ({...window.chromatileViewer.stats})")
        page.evaluate("() => window.chromatileViewer.setZ(window.chromatileViewer.getState().z + 1)")
        after = page.evaluate("() => ({...window.chromatileViewer.stats})")
        assert after["zStepsResident"] == before["zStepsResident"] + 1, f"step {step} was not resident"
        assert plane_value(page) == 10 * (2 + step + 1 + 1)


def test_fit_centres_the_image(page: Page, server: Server) -> None:
    open_viewer(page, server, "ramp16")
    page.evaluate("() => window.chromatileViewer.setView({center: [10, 10], zoom: 5})")
    page.evaluate("() => window.chromatileViewer.fit()")
    view = page.evaluate("() => window.chromatileViewer.getState().view")
    assert view["center"] == [65, 48]
    assert view["zoom"] == pytest.approx(256 / 130)
