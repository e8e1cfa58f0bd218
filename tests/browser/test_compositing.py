"""Pixels read back from the canvas match the NumPy reference of the compositing maths."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import Server, assert_close, canvas_size, open_viewer, render
from playwright.sync_api import Page
from viewer_reference import composite, view_of

pytestmark = pytest.mark.browser

# One data pixel = 2 x 2 screen pixels, image top-left at the canvas' top-left corner.
VIEW = {"center": [64, 64], "zoom": 2}


def channel(color: str, window: list[float], **extra: Any) -> dict[str, Any]:
    ch = {"color": color, "window": window, "visible": True, "gamma": 1.0, "invert": False, "colormap": "color"}
    ch.update(extra)
    return ch


def expected(server: Server, image_id: str, z: int, channels: list[dict[str, Any]], blend: str,
             view: dict[str, Any], size: tuple[int, int]) -> np.ndarray:
    planes = server.arrays[image_id][:, z]
    return view_of(composite(planes, channels, blend), view["center"], view["zoom"], *size)


def check(page: Page, server: Server, image_id: str, channels: list[dict[str, Any]], blend: str = "additive",
          z: int = 0, view: dict[str, Any] = VIEW) -> np.ndarray:
    got = render(page, {"view": view, "z": z, "blend": blend, "channels": channels})
    assert_close(got, expected(server, image_id, z, channels, blend, view, canvas_size(page)))
    return got


def test_window_and_colour_uint16_additive(page: Page, server: Server) -> None:
    open_viewer(page, server, "ramp16")
    got = check(page, server, "ramp16", [channel("#ff0000", [5000, 50000]), channel("#00ff80", [1000, 30000])])
    assert got[:192].max() > 200, "the picture is not black"
    assert not page.errors


def test_gamma_and_invert(page: Page, server: Server) -> None:
    open_viewer(page, server, "ramp16")
    check(page, server, "ramp16", [channel("#ffffff", [0, 65000], gamma=0.5, invert=True),
                                   channel("#0080ff", [2000, 40000], gamma=2.2)])


@pytest.mark.parametrize("blend", ["additive", "max"])
def test_every_colormap(page: Page, server: Server, blend: str) -> None:
    open_viewer(page, server, "ramp16")
    names = page.evaluate("() => window.chromatileViewer.colormaps")
    assert set(names) >= {"color", "grey", "viridis", "magma", "fire", "ice"}
    for name in names:
        check(page, server, "ramp16", [channel("#ffcc00", [0, 64000], colormap=name),
                                       channel("#3050ff", [0, 60000], colormap="grey" if name != "grey" else "fire", gamma=1.5)],
              blend=blend)


def test_lut_endpoints_match_matplotlib(page: Page, server: Server) -> None:
    # viridis and magma at t = 0 and 1 are matplotlib's #440154 / #fde725 and #000004 / #fcfdbf; the
    # polynomial fits stay within 6/255 of them (magma's top end is the worst).
    open_viewer(page, server, "ramp16")
    view = {"center": [65, 48], "zoom": 1}
    for name, lo_rgb, hi_rgb in [("viridis", (0x44, 0x01, 0x54), (0xFD, 0xE7, 0x25)),
                                 ("magma", (0x00, 0x00, 0x04), (0xFC, 0xFD, 0xBF))]:
        got = render(page, {"view": view, "z": 0, "channels": [
            channel("#ffffff", [1000, 63000], colormap=name), channel("#ffffff", [0, 1], visible=False)]})
        ox, oy = 128 - 65, 128 - 48  # canvas position of data pixel (0, 0)
        assert np.abs(got[oy + 10, ox + 0].astype(int) - lo_rgb).max() <= 6  # x = 0: value 0 < lo
        assert np.abs(got[oy + 10, ox + 129].astype(int) - hi_rgb).max() <= 6  # x = 129: 64500 > hi


def test_max_blend_uint16(page: Page, server: Server) -> None:
    open_viewer(page, server, "ramp16")
    check(page, server, "ramp16", [channel("#ff8000", [0, 65000]), channel("#40ff40", [0, 57000])], blend="max", z=2)


@pytest.mark.parametrize("blend", ["additive", "max"])
def test_six_channels_uint8(page: Page, server: Server, blend: str) -> None:
    open_viewer(page, server, "six8")
    colours = ["#ff0000", "#00ff00", "#0000ff", "#ffff00", "#ff00ff", "#00ffff"]
    channels = [channel(c, [10 + 5 * i, 240 - 7 * i], gamma=[1, 0.7, 1.3, 1, 2, 0.5][i], invert=i == 4)
                for i, c in enumerate(colours)]
    got = check(page, server, "six8", channels, blend=blend, view={"center": [64, 64], "zoom": 2})
    assert got[:128, :192].std() > 20
    # Two channels hidden: the others still composite exactly.
    channels[1]["visible"] = False
    channels[3]["visible"] = False
    check(page, server, "six8", channels, blend=blend, view={"center": [48, 32], "zoom": 1})


def test_level_one_at_half_zoom(page: Page, server: Server) -> None:
    # Zoom 1/2 picks pyramid level 1, whose pixels (2x2 means) land on one canvas pixel each.
    import zarr

    open_viewer(page, server, "ramp16")
    level1 = np.asarray(zarr.open_array(str(server.data_dir / "ramp16.ome.zarr" / "1"), mode="r"))[0, :, 1]
    channels = [channel("#ff0000", [0, 65000]), channel("#00ffff", [0, 60000])]
    view = {"center": [128, 128], "zoom": 0.5}
    got = render(page, {"view": view, "z": 1, "channels": channels})
    assert page.evaluate("() => window.chromatileViewer.stats.level") == 1
    assert_close(got, view_of(composite(level1, channels, "additive"), [64, 64], 1, *canvas_size(page)))


@pytest.mark.parametrize("blend", ["additive", "max"])
def test_twelve_channels_in_one_pass(page: Page, server: Server, blend: str) -> None:
    # Channels are layers of one texture array read in one loop: 12 at once, each with its own LUT.
    open_viewer(page, server, "many16")
    maps = page.evaluate("() => window.chromatileViewer.colormaps")
    assert page.evaluate("() => window.chromatileViewer.maxChannels") >= 12
    colours = ["#400000", "#004000", "#000040", "#303000", "#300030", "#003030", "#402000", "#200040", "#204000",
               "#002040", "#400020", "#202020"]
    # Additive: dim colours so twelve channels do not sum to white; max: every LUT in turn.
    channels = [channel(c, [500 * i, 65000 - 1500 * i], gamma=[1, 0.6, 1.4][i % 3], invert=i % 5 == 4,
                        colormap="color" if blend == "additive" else maps[i % len(maps)])
                for i, c in enumerate(colours)]
    draws = page.evaluate("() => window.chromatileViewer.stats.tileDraws")
    frames = page.evaluate("() => window.chromatileViewer.stats.frames")
    got = check(page, server, "many16", channels, blend=blend, view={"center": [64, 64], "zoom": 2})
    assert got[:96, :160].std() > 20
    # One draw per tile per frame, whatever the channel count (the 80 x 48 plane is 2 x 1 tiles).
    d_draws = page.evaluate("() => window.chromatileViewer.stats.tileDraws") - draws
    d_frames = page.evaluate("() => window.chromatileViewer.stats.frames") - frames
    assert d_draws <= 2 * d_frames
