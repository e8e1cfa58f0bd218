"""A 40-channel image in the panel: filter, collapsed rows, only visible, groups (URL and defaults), readout."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import ADMIN_TOKEN, Server, open_viewer
from playwright.sync_api import Page

pytestmark = pytest.mark.browser


def state(page: Page) -> dict[str, Any]:
    return page.evaluate("() => window.chromatileViewer.getState()")


def listed(page: Page) -> list[int]:
    return page.evaluate("""() => [...document.querySelectorAll('.ct-channel')]
        .filter((r) => !r.hidden).map((r) => Number(r.dataset.channel))""")


def visible(page: Page) -> list[int]:
    return [i for i, c in enumerate(state(page)["channels"]) if c["visible"]]


def test_forty_channels_are_compact_rows_with_a_filter_and_only_visible(page: Page, server: Server) -> None:
    page.set_viewport_size({"width": 1000, "height": 700})
    open_viewer(page, server, "many40")
    assert len(listed(page)) == 40
    # collapsed: name, colour and visibility only; no histogram drawn until a row is expanded
    assert page.locator(".ct-histogram").count() == 0
    heights = page.evaluate("() => [...document.querySelectorAll('.ct-channel')].map((r) => r.getBoundingClientRect().height)")
    assert max(heights) <= 34, heights
    page.locator(".ct-filter").fill("channel 3")
    assert listed(page) == [3, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39]
    page.locator(".ct-filter").fill("Channel 12, channel 7")
    assert listed(page) == [7, 12]
    page.locator(".ct-filter").fill("no such marker")
    assert listed(page) == [] and page.locator(".ct-empty").is_visible()
    page.locator(".ct-filter").fill("")
    page.evaluate("() => window.chromatileViewer.setState({channels: Array.from({length: 40}, (_, i) => ({visible: i % 9 === 0}))})")
    page.locator(".ct-only-visible").check()
    page.wait_for_function("document.querySelectorAll('.ct-channel:not([hidden])').length === 5")
    assert listed(page) == [0, 9, 18, 27, 36] == visible(page)
    assert "5 listed · 5 of 40 visible" in (page.locator(".ct-channel-count").text_content() or "")
    # expand a row: its histogram and window; typing a window changes that channel only
    row = page.locator('.ct-channel[data-channel="9"]')
    row.locator(".ct-expand").click()
    assert row.locator(".ct-histogram").is_visible()
    row.locator("input.ct-lo").fill("1000")
    row.locator("input.ct-lo").press("Tab")
    assert state(page)["channels"][9]["window"][0] == 1000
    # show all of the listed rows: with a filter, only those
    page.locator(".ct-only-visible").uncheck()
    page.locator(".ct-filter").fill("channel 2")
    page.locator(".ct-show-all").click()
    assert visible(page) == [0, 2, 9, 18, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 36]
    assert not page.errors  # type: ignore[attr-defined]


def test_groups_show_their_channels_and_travel_in_the_link_and_the_defaults(page: Page, server: Server) -> None:
    page.set_viewport_size({"width": 1000, "height": 700})
    open_viewer(page, server, "many40")
    page.evaluate("""() => window.chromatileViewer.setState({channels: Array.from({length: 40}, (_, i) =>
        i === 2 ? {visible: true, color: '#ff0000', window: [100, 9000], gamma: 1.5} :
        i === 33 ? {visible: true, colormap: 'magma'} : {visible: false})})""")
    names = ["immune"]
    page.on("dialog", lambda d: d.accept(names.pop(0) if names else ADMIN_TOKEN))
    page.locator(".ct-group-save").click()
    assert not names
    immune = state(page)["channels"]
    page.locator(".ct-show-all").click()
    assert len(visible(page)) == 40
    page.locator(".ct-group-select").select_option("immune")
    assert state(page)["channels"] == immune, "the group's channels, with their settings, and no other"
    page.wait_for_function("location.hash.includes('groups=immune')")
    # the link carries the group: a new page has it, ready to show
    again = page.context.new_page()
    again.goto(page.url)
    again.wait_for_function("window.chromatileViewer !== undefined")
    again.evaluate("() => window.chromatileViewer.ready")
    again.evaluate("() => window.chromatileViewer.setState({channels: Array.from({length: 40}, () => ({visible: true}))})")
    again.locator(".ct-group-select").select_option("immune")
    assert again.evaluate("() => window.chromatileViewer.getState().channels") == immune
    again.close()
    # "Save as default" keeps it for everyone: a page without the link's state lists it
    page.locator("button.ct-save-default").click()
    page.wait_for_function("document.querySelector('.ct-status').textContent.includes('Saved')")
    zattrs = json.loads((server.data_dir / "many40.ome.zarr" / ".zattrs").read_text())
    assert [g["name"] for g in zattrs["chromatile"]["groups"]] == ["immune"]
    assert [c["index"] for c in zattrs["chromatile"]["groups"][0]["channels"]] == [2, 33]
    fresh = page.context.new_page()
    fresh.goto(f"{server.url}/view/many40")
    fresh.wait_for_function("window.chromatileViewer !== undefined")
    fresh.evaluate("() => window.chromatileViewer.ready")
    assert "immune (2)" in (fresh.locator(".ct-group-select").text_content() or "")
    fresh.evaluate("() => window.chromatileViewer.setState({channels: Array.from({length: 40}, () => ({visible: true}))})")
    fresh.locator(".ct-group-select").select_option("immune")
    assert fresh.evaluate("() => window.chromatileViewer.getState().channels") == immune
    fresh.close()


def test_readout_of_forty_visible_channels_is_a_compact_table(page: Page, server: Server) -> None:
    page.set_viewport_size({"width": 1000, "height": 700})
    open_viewer(page, server, "many40")
    page.evaluate("async () => { const v = window.chromatileViewer; v.setState({channels: Array.from({length: 40}, () => "
                  "({visible: true})), view: {center: [40, 24], zoom: 4}}); await v.whenIdle(); }")
    stage = page.locator(".ct-stage").bounding_box()
    assert stage
    page.mouse.move(stage["x"] + stage["width"] / 2 + 2, stage["y"] + stage["height"] / 2 + 2)
    page.wait_for_function("document.querySelectorAll('.ct-readout-value').length === 40")
    a = server.arrays["many40"]
    cells = page.evaluate("""() => [...document.querySelectorAll('.ct-readout-value')]
        .map((td) => [Number(td.dataset.channel), td.textContent])""")
    assert sorted(c for c, _ in cells) == list(range(40))
    x, y = 40, 24
    for c, text in cells:
        assert text == str(a[c, 0, y, x]), (c, text)
    table = page.locator(".ct-readout-table").bounding_box()
    assert table and table["height"] <= 8 * 20 and table["width"] <= stage["width"], table
