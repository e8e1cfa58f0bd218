"""Pixels read back from the canvas match the NumPy reference of the compositing maths."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import (
    COUNT_COMPILES,
    DOCKED_PANEL,
    SIDEBAR,
    Server,
    assert_close,
    canvas_size,
    open_viewer,
    render,
)
from playwright.sync_api import Browser, Page
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


def test_zero_width_windows_are_steps_not_nan(page: Page, server: Server) -> None:
    # ingest writes [v-1, v] for constant channels, but a user or a foreign store may set lo == hi,
    # also at the top of the range where lo + a small epsilon is lo again in float32
    open_viewer(page, server, "ramp16")
    got = check(page, server, "ramp16", [channel("#ff0000", [30000, 30000]), channel("#00ff00", [65535, 65535])])
    assert got[..., 0].max() == 255 and got[..., 1].max() == 0
    check(page, server, "ramp16", [channel("#ffffff", [0, 0]), channel("#0000ff", [20000, 10000])])


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


# ---- exact at the edges (issue 10, point 6) ----------------------------------------------------

@pytest.mark.parametrize("center", [[65.5, 48.5], [64.5, 32.5], [1.5, 95.5]])
def test_image_edge_on_a_pixel_centre(page: Page, server: Server, center: list[float]) -> None:
    # Zoom 1 with a half-integer centre on an even canvas puts every image edge (and every tile
    # boundary) exactly on a row or column of pixel centres: the pixel whose centre is on the right
    # or bottom edge is outside the image (black), the one on the left or top edge is the first pixel.
    open_viewer(page, server, "ramp16")
    check(page, server, "ramp16", [channel("#ff0000", [0, 65000]), channel("#00ffff", [0, 60000])],
          view={"center": center, "zoom": 1})


@pytest.mark.parametrize("view", [{"center": [40.3, 33.7], "zoom": 1.37}, {"center": [77.77, 20.2], "zoom": 2.9},
                                  {"center": [100.0625, 60.0625], "zoom": 8}, {"center": [12.5, 90.25], "zoom": 1.0001}])
def test_any_zoom_samples_the_texel_under_each_pixel_centre(page: Page, server: Server, view: dict[str, Any]) -> None:
    # Zooms where level and canvas pixels do not line up, and zoom 8 with edges on pixel centres:
    # each pixel still shows the texel under its centre, tile and image edges included.
    open_viewer(page, server, "ramp16")
    check(page, server, "ramp16", [channel("#ff0000", [0, 65000]), channel("#00ffff", [0, 60000])], view=view)


def test_odd_canvas_height_at_integer_centre(browser: Browser, server: Server) -> None:
    context = browser.new_context(viewport={"width": 256 + SIDEBAR, "height": 255}, device_scale_factor=1)
    context.add_init_script(DOCKED_PANEL)  # the panel stays beside the 256 px canvas (conftest.page)
    pg = context.new_page()
    try:
        open_viewer(pg, server, "ramp16")
        assert canvas_size(pg) == (256, 255)
        channels = [channel("#ffffff", [0, 65000]), channel("#ff00ff", [0, 60000])]
        for view in ({"center": [65, 48], "zoom": 1}, {"center": [65, 47], "zoom": 1}, {"center": [30, 60], "zoom": 2}):
            check(pg, server, "ramp16", channels, view=view)
    finally:
        context.close()


# ---- every visible channel is drawn (issue 10, point 2) ---------------------------------------

def dim(c: int) -> str:
    """A dim primary per channel, so that 64 channels add up to at most ~220/255 per component."""
    return ["#0a0000", "#000a00", "#00000a"][c % 3]


@pytest.mark.parametrize("image_id,n", [("many40", 40), ("many64", 64)])
def test_every_visible_channel_is_drawn(page: Page, server: Server, image_id: str, n: int) -> None:
    page.add_init_script(COUNT_COMPILES)
    open_viewer(page, server, image_id)
    compiles = page.evaluate("() => window.__compiles")
    view = {"center": [64, 64], "zoom": 2}
    channels = [channel(dim(c), [700 * (c % 5), 65000 - 900 * (c % 7)]) for c in range(n)]
    got = check(page, server, image_id, channels, view=view)
    assert page.evaluate("() => window.chromatileViewer.maxChannels") >= 64
    assert got[:96, :160].mean() > 40, "the picture is not black"
    # Max blend: the last channel is the brightest, so it shows only if it is drawn.
    channels[-1] = channel("#ffffff", [0, 65535])
    check(page, server, image_id, channels, blend="max", view=view)
    # Toggling channels on and off: each new set of visible channels builds its own program once,
    # after its first frame (drawn by the program built at start); going back to one compiles nothing.
    for c in range(0, n, 3):
        channels[c]["visible"] = False
    check(page, server, image_id, channels, view=view)
    channels = [dict(ch, visible=True) for ch in channels]
    check(page, server, image_id, channels, view=view)
    assert page.evaluate("() => window.__compiles") == compiles + 3  # all, max blend, two thirds
    assert not page.errors


TILE_LAYERS = """() => { const c = window.chromatileViewer._viewer.cache;
    const tiles = [...c.entries.values()].filter((e) => e.texture);
    return {layers: [...new Set(tiles.map((e) => e.layers))], bytes: c.bytes,
            sum: tiles.reduce((n, e) => n + e.width * e.height * e.layers * 2, 0)}; }"""


def test_tiles_hold_a_layer_per_channel_stored_not_per_channel_of_the_image(page: Page, server: Server) -> None:
    # A tile's texture has a layer per channel stored in it (rounded up to 4, 8, ...), wherever those
    # channels are in the image: DAPI and markers far apart take 4 layers, not 64. Channel c sits in
    # layer c when free (the usual view's programs read constant layers), others in free layers.
    # opened on channels 0 and 1 alone (a link), so that no tile holds any other
    shown = {0: "1,ff0000,0,60000,1,0,color", 1: "1,00ff00,2000,65000,1,0,color"}
    link = ";".join(shown.get(c, "0,") for c in range(64))
    open_viewer(page, server, "many64", f"#x=64&y=64&zoom=2&z=0&t=0&blend=additive&ch={link}")
    view = {"center": [64, 64], "zoom": 2}

    def layers_once_settled() -> list[int]:
        check(page, server, "many64", channels, view=view)
        page.wait_for_function("window.chromatileViewer.settled")
        held = page.evaluate(TILE_LAYERS)
        assert held["bytes"] == held["sum"], held
        return held["layers"]

    channels = [channel("#101010", [0, 65535], visible=False) for _ in range(64)]
    channels[0] = channel("#ff0000", [0, 60000])
    channels[1] = channel("#00ff00", [2000, 65000])
    assert layers_once_settled() == [4]
    growths = page.evaluate("() => window.chromatileViewer.stats.tileGrowths")
    # two markers far up the image: free layers of the same textures, nothing grows
    channels[40] = channel("#0000ff", [0, 50000])
    channels[63] = channel("#ffff00", [1000, 40000])
    assert layers_once_settled() == [4]
    assert page.evaluate("() => window.chromatileViewer.stats.tileGrowths") == growths
    # a fifth channel grows the tiles to 8 layers; the four they held survive the copy exactly
    channels[2] = channel("#ff00ff", [0, 65535])
    assert layers_once_settled() == [8]
    assert page.evaluate("() => window.chromatileViewer.stats.tileGrowths") > growths
    # channels 0..2 alone: channel 2 is not in layer 2 of these tiles (40 and 63 took the free
    # layers 3 and 2), so the layers come per tile, not from a constant-layer program; still exact
    for c in (40, 63):
        channels[c]["visible"] = False
    check(page, server, "many64", channels, view=view)
    drew = page.evaluate("() => { const r = window.chromatileViewer._viewer.renderer; return r.lastPrefix; }")
    assert drew is False
    # the readout reads each channel from its own layer
    values = page.evaluate("() => window.chromatileViewer.valuesAt(30, 20)")
    data = server.arrays["many64"][:, 0, 20, 30]  # (x, y) = (30, 20)
    assert [values[c]["value"] for c in (0, 1, 2, 40, 63)] == [int(data[c]) for c in (0, 1, 2, 40, 63)]
    assert page.evaluate("() => window.chromatileViewer._viewer.renderer.gl.getError()") == 0
    assert not page.errors


def test_plain_programs_for_the_first_channels(page: Page, server: Server) -> None:
    # The usual view has a program for each small count N of channels 0..N-1 visible (written out,
    # layers constant), built after the first view: each draws exactly, with channels toggled
    # on and off, and nothing compiles for them. Other sets of visible channels are drawn by the plain
    # program for any channels until their own (mapped) program is built: one compile each.
    page.add_init_script(COUNT_COMPILES)
    open_viewer(page, server, "many40")
    compiles = page.evaluate("() => window.__compiles")
    counts = page.evaluate("() => window.chromatileViewer._viewer.renderer.prefix.length - 1")
    assert counts >= 4
    view = {"center": [64, 64], "zoom": 2}
    colors = ["#ff0000", "#00ff00", "#0000ff", "#ffff00", "#00ffff", "#ff00ff", "#ffffff", "#808080"]
    for n, first in ((1, True), (2, True), (4, True), (counts, True), (counts + 1, True), (3, False), (1, False)):
        # channels 0..n-1, or n channels spread over the layers; one of them inverted
        shown = list(range(n)) if first else [5 * k + 1 for k in range(n)]
        channels = [channel("#101010", [0, 65535], visible=False) for _ in range(40)]
        for k, c in enumerate(shown):
            channels[c] = channel(colors[k % 8], [1000 * k, 60000 - 3000 * k], invert=k == 1)
        check(page, server, "many40", channels, view=view)
        drew = page.evaluate("() => { const r = window.chromatileViewer._viewer.renderer; "
                             "return [r.lastProgram, r.lastPrefix]; }")
        if first and n <= counts:
            assert drew == ["plain", True], (n, first, drew)
        else:
            assert drew in (["plain", False], ["mapped", False]), (n, first, drew)
    # each is built for its count: no channel-count uniform is left in it
    built = page.evaluate("() => window.chromatileViewer._viewer.renderer.prefix.filter((p) => p && 'loc' in p)"
                          ".map((p) => p.loc.u_count === null)")
    assert built == [True] * counts
    assert page.evaluate("() => window.__compiles") == compiles + 3  # counts + 1; 3 and 1 spread out
    assert not page.errors


def test_later_programs_are_linked_when_idle_not_by_the_first_change(page: Page, server: Server) -> None:
    # The programs built after the first view are waited for while the page is idle: the first settings
    # change used to wait for their links (100-150 ms on this software GL) before its frame.
    open_viewer(page, server, "many40")
    page.wait_for_function("""() => { const r = window.chromatileViewer._viewer.renderer;
        return r.prefix.length > 1 && r.prefix.slice(1).every((p) => p && 'loc' in p) && r.gammaPlain && 'loc' in r.gammaPlain; }""",
                           timeout=15_000)
    assert not page.errors


def recolour_until_mapped(page: Page, server: Server, image_id: str, channels: list[dict[str, Any]],
                          blend: str, view: dict[str, Any] = VIEW, index: int = 0) -> None:
    """Contrast changes of channel `index`, each frame checked against the reference, until a frame is
    drawn by the view's own (mapped) program; at most 10 (one suffices without parallel compiles)."""
    used = "() => window.chromatileViewer._viewer.renderer.lastProgram"
    lo, hi = channels[index]["window"]
    for k in range(10):
        channels[index]["window"] = [lo + (k + 1) * (hi - lo) / 40, hi - (k + 1) * (hi - lo) / 50]
        check(page, server, image_id, channels, blend=blend, view=view)
        if page.evaluate(used) == "mapped":
            return
    raise AssertionError(f"10 frames of the same colormaps, none drawn by their own program: {page.evaluate(used)}")


@pytest.mark.parametrize("blend", ["additive", "max"])
def test_other_colormaps_get_a_program_of_their_own(page: Page, server: Server, blend: str) -> None:
    # A view with other colormaps (or blend max) is drawn at once by the general program, which calls
    # every colormap and blend at every pixel on a software GL; the view's own program (its colormaps
    # written out per channel) is built beside that frame and draws the next ones, exactly.
    page.add_init_script(COUNT_COMPILES)
    open_viewer(page, server, "ramp16")
    used = "() => window.chromatileViewer._viewer.renderer.lastProgram"
    # gamma with invert, invert alone (folded into the window), and both colormaps of the pair
    channels = [channel("#ffcc00", [0, 64000], invert=True), channel("#3050ff", [0, 60000], gamma=1.5, invert=True)]
    check(page, server, "ramp16", channels)  # the view's tiles in: the next change is one frame
    compiles = page.evaluate("() => window.__compiles")
    channels[0]["colormap"], channels[1]["colormap"] = "fire", "viridis"
    check(page, server, "ramp16", channels, blend=blend)
    assert page.evaluate(used) == "general"
    recolour_until_mapped(page, server, "ramp16", channels, blend)
    assert page.evaluate("() => window.__compiles") == compiles + 1
    # another mix: its own program too; back to the first: kept, nothing compiles
    channels[1]["colormap"] = "magma"
    check(page, server, "ramp16", channels, blend=blend)
    recolour_until_mapped(page, server, "ramp16", channels, blend)
    channels[1]["colormap"] = "viridis"
    check(page, server, "ramp16", channels, blend=blend)
    assert page.evaluate(used) == "mapped"
    assert page.evaluate("() => window.__compiles") == compiles + 2
    assert not page.errors


def test_mapped_programs_for_channels_spread_over_the_layers(page: Page, server: Server) -> None:
    # Visible channels other than 0..n-1: each reads its own texture layer.
    open_viewer(page, server, "six8")
    colours = ["#ff0000", "#00ff00", "#0000ff", "#ffff00", "#ff00ff", "#00ffff"]
    maps = ["ice", "color", "magma", "grey", "fire", "viridis"]
    channels = [channel(c, [10 + 5 * i, 240 - 7 * i], gamma=[1, 0.7, 1.3, 1, 2, 0.5][i], invert=i == 4,
                        colormap=maps[i], visible=i not in (0, 3)) for i, c in enumerate(colours)]
    view = {"center": [48, 32], "zoom": 1}
    check(page, server, "six8", channels, view=view)
    recolour_until_mapped(page, server, "six8", channels, "additive", view, index=1)
    assert page.evaluate("() => window.chromatileViewer._viewer.renderer.lastPrefix") is False
    assert not page.errors


def test_plain_and_general_programs_switch_without_waiting_for_a_compile(page: Page, server: Server) -> None:
    # `color` + `additive` (the usual view) draws with a plain program, anything else at once with the
    # general one; both are built by the time the first view is complete, so every switch is exact and
    # waits for no compile. The only compiles are those of each new mix's own program (viridis; blend
    # max; gamma), started after their first frame.
    page.add_init_script(COUNT_COMPILES)
    open_viewer(page, server, "ramp16")
    compiles = page.evaluate("() => window.__compiles")
    used = "() => window.chromatileViewer._viewer.renderer.lastProgram"
    plain = [channel("#ff0000", [5000, 50000]), channel("#00ff80", [1000, 30000])]
    check(page, server, "ramp16", plain)
    assert page.evaluate(used) == "plain"
    check(page, server, "ramp16", [plain[0], channel("#00ff80", [1000, 30000], colormap="viridis")])
    assert page.evaluate(used) == "general"
    check(page, server, "ramp16", plain, blend="max")
    assert page.evaluate(used) == "general"
    # a channel with another colormap does not matter while it is hidden
    check(page, server, "ramp16", [plain[0], channel("#00ff80", [0, 1], colormap="fire", visible=False)])
    assert page.evaluate(used) == "plain"
    # gamma and invert are the plain programs' too (invert folded into the window where gamma is 1)
    check(page, server, "ramp16", [plain[0], channel("#00ff80", [1000, 30000], gamma=1.5, invert=True)])
    assert page.evaluate(used) == "plain"
    check(page, server, "ramp16", [plain[0], channel("#00ff80", [1000, 30000], invert=True)])
    assert page.evaluate(used) == "plain"
    check(page, server, "ramp16", [channel("#ffffff", [30000, 30000], invert=True), channel("#0000ff", [20000, 10000], invert=True)])
    assert page.evaluate(used) == "plain"
    assert page.evaluate("() => window.__compiles") == compiles + 3
