"""Recolouring is free: colour and contrast changes cost no request and no texture upload."""

from __future__ import annotations

import pytest
from conftest import Server, open_viewer, render
from playwright.sync_api import Page

pytestmark = pytest.mark.browser


def count_requests(page: Page) -> list[str]:
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url))
    return seen


def test_settings_changes_issue_no_request_and_no_upload(page: Page, server: Server) -> None:
    open_viewer(page, server, "ramp16")
    render(page, {"view": {"center": [64, 48], "zoom": 2}})
    page.wait_for_function("window.chromatileViewer.settled")  # let Z prefetch settle
    requests = count_requests(page)
    before = page.evaluate("() => ({...window.chromatileViewer.stats})")
    first = render(page)
    page.evaluate(
        """async () => {
            const v = window.chromatileViewer;
            const maps = v.colormaps;
            for (let i = 0; i < 40; i++) {
                v.setChannel(i % 2, {window: [i * 100, 30000 + i * 500], color: i % 3 ? '#ff00ff' : '#00ff00',
                                     gamma: 0.5 + (i % 5) * 0.3, invert: i % 4 === 0, colormap: maps[i % maps.length]});
                v.setBlend(i % 2 ? 'max' : 'additive');
                await new Promise(requestAnimationFrame);
            }
        }"""
    )
    last = render(page, {"blend": "additive", "channels": [{"colormap": "fire", "window": [0, 20000]}]})
    after = page.evaluate("() => ({...window.chromatileViewer.stats})")
    assert requests == []
    assert after["uploads"] == before["uploads"]
    assert after["requests"] == before["requests"]
    assert after["frames"] > before["frames"] + 20
    assert (first != last).any(), "the settings changed the picture"


def test_histogram_drag_costs_nothing_and_moves_the_window(page: Page, server: Server) -> None:
    open_viewer(page, server, "ramp16")
    page.wait_for_function("window.chromatileViewer.settled")
    requests = count_requests(page)
    uploads = page.evaluate("() => window.chromatileViewer.stats.uploads")
    hist = page.locator('.ct-channel[data-channel="0"] canvas.ct-histogram')
    # The panel is taller than the 256 px page: bring the histogram into view before using the mouse on it.
    hist.scroll_into_view_if_needed()
    box = hist.bounding_box()
    assert box
    lo_before = page.evaluate("() => window.chromatileViewer.getState().channels[0].window")
    page.mouse.move(box["x"] + 1, box["y"] + box["height"] / 2)
    page.mouse.down()
    for i in range(20):
        page.mouse.move(box["x"] + 1 + i * 3, box["y"] + box["height"] / 2)
    page.mouse.up()
    render(page)
    window = page.evaluate("() => window.chromatileViewer.getState().channels[0].window")
    assert window[0] != lo_before[0] and window[1] == lo_before[1]
    # The numeric field follows the handle.
    assert float(page.locator('.ct-channel[data-channel="0"] input.ct-lo').input_value()) == window[0]
    assert requests == []
    assert page.evaluate("() => window.chromatileViewer.stats.uploads") == uploads


# Contrast changes as a drag makes them (one per animation frame), with every mutation of the page's DOM
# recorded meanwhile: a record is a restyle, layout and repaint the browser does beside the frame.
DRAG_MUTATIONS = """async (channel) => {
    const v = window.chromatileViewer, records = [];
    const seen = new MutationObserver((list) => records.push(...list));
    seen.observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
    for (let i = 0; i < 12; i++) {
        const drawn = new Promise((res) => { const off = v.on('frame', () => { off(); res(); }); });
        v.setChannel(channel, {window: [100 + i * 10, 30000]});
        await drawn;
    }
    // the panel follows the state once per animation frame, after the frame's own
    await new Promise(requestAnimationFrame);
    await new Promise(requestAnimationFrame);
    records.push(...seen.takeRecords());
    seen.disconnect();
    const name = (n) => n.nodeType === 1 ? `${n.tagName.toLowerCase()}.${n.className}` : name(n.parentNode);
    return records.map((r) => `${r.type} ${r.attributeName || ''} on ${name(r.target)}`);
}"""


@pytest.mark.parametrize("image_id", ["ramp16", "many40"])
def test_a_contrast_drag_changes_nothing_else_in_the_page(page: Page, server: Server, image_id: str) -> None:
    """The panel's controls and texts are rewritten only where a value changed: rewriting unchanged ones
    (the channel count, the Z text, hidden flags) made the page restyle, lay out and repaint on every frame
    of a drag, as much main-thread time as the 1-channel composite itself on a software GL (bench/viewer)."""
    open_viewer(page, server, image_id)
    page.wait_for_function("window.chromatileViewer.settled")
    # ramp16's rows are expanded (histogram, numeric window, gamma); many40's are compact rows
    expanded = page.locator('.ct-channel[data-channel="0"] input.ct-lo').count() == 1
    assert expanded == (image_id == "ramp16")
    assert page.evaluate(DRAG_MUTATIONS, 0) == []
    # the controls still follow the state
    assert page.evaluate("() => window.chromatileViewer.getState().channels[0].window") == [210, 30000]
    if expanded:
        assert page.locator('.ct-channel[data-channel="0"] input.ct-lo').input_value() == "210"
    assert not page.errors  # type: ignore[attr-defined]
