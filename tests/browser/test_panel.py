"""The channel panel, pixel readout, scale bar, PNG export and "save as default", driven like a user."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import imagecodecs
import numpy as np
import pytest
from conftest import ADMIN_TOKEN, Server, assert_close, canvas_size, open_viewer, render
from playwright.sync_api import Page, expect
from viewer_reference import composite, view_of

pytestmark = pytest.mark.browser

VIEW = {"center": [64, 64], "zoom": 2}


def row(page: Page, c: int, selector: str) -> Any:
    return page.locator(f'.ct-channel[data-channel="{c}"] {selector}')


def state(page: Page) -> dict[str, Any]:
    return page.evaluate("() => window.chromatileViewer.getState()")


def zattrs(server: Server, image_id: str) -> dict[str, Any]:
    return json.loads((server.data_dir / f"{image_id}.ome.zarr" / ".zattrs").read_text())


def test_every_control_changes_the_picture_as_the_reference_says(page: Page, server: Server) -> None:
    open_viewer(page, server, "ramp16")
    render(page, {"view": VIEW, "z": 1})
    labels = [m["label"] for m in zattrs(server, "ramp16")["omero"]["channels"]]
    assert row(page, 0, ".ct-label").text_content() == labels[0]
    row(page, 0, "input.ct-color").fill("#ff8800")
    row(page, 0, "select.ct-colormap").select_option("color")
    row(page, 0, "input.ct-lo").fill("4000")
    row(page, 0, "input.ct-lo").press("Tab")
    row(page, 0, "input.ct-hi").fill("52000")
    row(page, 0, "input.ct-hi").press("Tab")
    row(page, 0, "input.ct-gamma").fill("0.5")
    row(page, 0, "input.ct-invert").check()
    row(page, 1, "select.ct-colormap").select_option("magma")
    row(page, 1, "input.ct-gamma").fill("1.5")
    page.locator("select.ct-blend").select_option("max")
    ch = state(page)["channels"]
    assert ch[0] == {"color": "#ff8800", "window": [4000, 52000], "visible": True, "gamma": 0.5, "invert": True,
                     "colormap": "color"}
    assert ch[1]["colormap"] == "magma" and ch[1]["gamma"] == 1.5
    got = render(page)
    planes = server.arrays["ramp16"][:, 1]
    assert_close(got, view_of(composite(planes, ch, "max"), VIEW["center"], VIEW["zoom"], *canvas_size(page)))
    # The visibility box hides a channel.
    row(page, 1, "input[type=checkbox]").first.uncheck()
    ch = state(page)["channels"]
    assert ch[1]["visible"] is False
    assert_close(render(page), view_of(composite(planes, ch, "max"), VIEW["center"], VIEW["zoom"], *canvas_size(page)))


def test_auto_contrast_uses_histogram_percentiles_and_reset_restores_defaults(page: Page, server: Server) -> None:
    data = np.zeros((2, 3, 96, 130), np.uint16)
    data[:] = server.arrays["ramp16"]
    open_viewer(page, server, "ramp16")
    meta = zattrs(server, "ramp16")
    page.evaluate("() => window.chromatileViewer.setChannel(1, {window: [10, 20], color: '#123456', gamma: 3})")
    row(page, 1, "button.ct-auto").click()
    lo, hi = state(page)["channels"][1]["window"]
    hist = meta["chromatile"]["channels"][1]["histogram"]
    bin_width = (hist["range"][1] - hist["range"][0]) / len(hist["counts"])
    p_lo, p_hi = np.percentile(data[1], [0.1, 99.9])
    assert abs(lo - p_lo) <= bin_width + 1 and abs(hi - p_hi) <= bin_width + 1
    expect(row(page, 1, "input.ct-lo")).to_have_value(str(lo))
    page.locator("button.ct-reset").click()
    for ch, om in zip(state(page)["channels"], meta["omero"]["channels"], strict=True):
        assert ch["window"] == [om["window"]["start"], om["window"]["end"]]
        assert ch["color"] == "#" + om["color"].lower()
        assert (ch["gamma"], ch["invert"], ch["colormap"], ch["visible"]) == (1, False, "color", True)


def readout_table(page: Page) -> dict[str, str]:
    """{channel label: value} of the readout table."""
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('.ct-readout-value')]
        .map((td) => [td.previousElementSibling.textContent, td.textContent]))""")


def test_readout_shows_the_visible_channels_and_the_physical_position(page: Page, server: Server) -> None:
    open_viewer(page, server, "ramp16")
    render(page, {"view": VIEW, "z": 2})
    page.mouse.move(2 * 37 + 1, 2 * 21 + 1)  # data pixel (37, 21)
    page.wait_for_function("document.querySelector('.ct-readout').textContent.includes('x 37')")
    a = server.arrays["ramp16"]
    text = page.locator(".ct-readout-pos").text_content() or ""
    # planes are counted from 1, as on the Z slider ("3 / 3")
    assert "x 37, y 21" in text and "(9.25, 5.25 µm)" in text and "z 3 / 3" in text
    assert page.locator('.ct-slider[data-axis="Z"] .ct-slider-value').text_content() == "3 / 3"
    assert readout_table(page) == {"Channel 0": str(a[0, 2, 21, 37]), "Channel 1": str(a[1, 2, 21, 37])}
    values = page.evaluate("() => window.chromatileViewer.valuesAt(100, 90).map((v) => v.value)")
    assert values == [int(a[0, 2, 90, 100]), int(a[1, 2, 90, 100])]
    # a hidden channel leaves the table
    page.evaluate("() => window.chromatileViewer.setChannel(0, {visible: false})")
    page.mouse.move(2 * 38 + 1, 2 * 21 + 1)
    page.wait_for_function("document.querySelector('.ct-readout').textContent.includes('x 38')")
    assert readout_table(page) == {"Channel 1": str(a[1, 2, 21, 38])}


def test_scale_bar_is_in_physical_units(page: Page, server: Server) -> None:
    open_viewer(page, server, "ramp16")
    for zoom in (2, 0.5, 8):
        render(page, {"view": {"center": [64, 48], "zoom": zoom}})
        width = page.evaluate("() => document.querySelector('.ct-scalebar-bar').getBoundingClientRect().width")
        value, unit = (page.locator(".ct-scalebar-label").text_content() or "").split()
        assert unit == "µm"
        assert float(value) == pytest.approx(width * 0.25 / zoom, rel=0.01)  # 0.25 µm per level-0 pixel
        assert 40 <= width <= 130


def test_png_export_is_the_current_view(page: Page, server: Server) -> None:
    open_viewer(page, server, "six8")
    shown = render(page, {"view": {"center": [48, 32], "zoom": 2.5}})
    with page.expect_download() as info:
        page.locator("button.ct-export").click()
    download = info.value
    assert download.suggested_filename == "six8-z0.png"
    exported = imagecodecs.png_decode(Path(download.path()).read_bytes())[..., :3]
    assert exported.shape == shown.shape and (exported == shown).all()


def test_save_as_default_needs_the_admin_token_and_is_used_on_next_open(page: Page, server: Server) -> None:
    open_viewer(page, server, "saved")
    settings = {"color": "#ff00ff", "window": [3, 40], "gamma": 0.8, "invert": True, "colormap": "fire"}
    page.evaluate("(s) => window.chromatileViewer.setChannel(1, s)", settings)
    answers = ["not-the-token", ADMIN_TOKEN]
    page.on("dialog", lambda d: d.accept(answers.pop(0)))
    page.locator("button.ct-save-default").click()
    page.wait_for_selector(".ct-message-save")
    assert "HTTP 40" in (page.locator(".ct-message-save").text_content() or "")
    assert "ff00ff" not in (server.data_dir / "saved.ome.zarr" / ".zattrs").read_text().lower()
    page.locator("button.ct-save-default").click()
    page.wait_for_function("document.querySelector('.ct-status').textContent.includes('Saved')")
    assert not answers
    fresh = page.context.browser.new_page()  # type: ignore[union-attr]
    try:
        fresh.goto(f"{server.url}/view/saved")
        fresh.wait_for_function("window.chromatileViewer !== undefined")
        fresh.evaluate("() => window.chromatileViewer.whenIdle()")
        ch = fresh.evaluate("() => window.chromatileViewer.getState().channels[1]")
        assert ch == {**settings, "visible": True}
    finally:
        fresh.close()
