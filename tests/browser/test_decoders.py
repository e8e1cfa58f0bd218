"""The decode workers decode our default ingest (blosc with zstd inside) with the viewer's own small
decoders (webclient/src/blosc.js, zstd.js): numcodecs' build of c-blosc (603 KB of JS with every codec
and the encoders) is never fetched, and the values on the GPU are exactly the image's."""

from __future__ import annotations

import pytest
from conftest import Server, assert_close, canvas_size, open_viewer, render
from playwright.sync_api import Page, Response, Route
from viewer_reference import composite, view_of

pytestmark = pytest.mark.browser

# numcodecs' blosc chunk is 603 KB and its zstd 747 KB; ours, the zstd decoder's wasm inlined, 74 KB.
LARGEST_WORKER_FILE = 150_000


def test_default_ingest_decodes_exactly_without_numcodecs_blosc(page: Page, server: Server) -> None:
    worker_files: list[Response] = []
    page.on("response", lambda r: worker_files.append(r) if "/dist/worker/" in r.url else None)
    open_viewer(page, server, "ramp16")
    codec = page.evaluate("() => window.chromatileViewer._viewer.source.levels[0].compressor")
    assert codec["id"] == "blosc" and codec["cname"] == "zstd", f"ramp16 is stored as our ingest's default: {codec}"

    channels = [{"color": "#ffffff", "window": [0, 65535], "visible": True, "gamma": 1.0, "invert": False,
                 "colormap": "color"},
                {"color": "#ff0000", "window": [0, 65535], "visible": True, "gamma": 1.0, "invert": False,
                 "colormap": "color"}]
    view = {"center": [65, 48], "zoom": 1}
    got = render(page, {"view": view, "z": 2, "channels": channels})
    planes = server.arrays["ramp16"][:, 2]
    assert_close(got, view_of(composite(planes, channels, "additive"), view["center"], view["zoom"], *canvas_size(page)))
    # The raw values of level 0 as the GPU holds them, every third pixel of both channels.
    values = page.evaluate("""() => {
        const v = window.chromatileViewer, out = [];
        for (let y = 0; y < 96; y += 3) for (let x = 0; x < 130; x += 3) {
            const at = v.valuesAt(x, y);
            out.push(at.map((c) => c && c.level === 0 ? c.value : -1));
        }
        return out;
    }""")
    expected = planes[:, ::3, ::3].reshape(2, -1).T.tolist()
    assert values == expected, "level 0's values on the GPU are the image's"

    sizes = {r.url.rsplit("/", 1)[1]: len(r.body()) for r in worker_files}
    assert sizes, "the decode worker's files were seen"
    assert max(sizes.values()) < LARGEST_WORKER_FILE, f"a numcodecs build was fetched: {sizes}"
    assert not page.errors


def test_a_page_whose_csp_refuses_data_urls_still_decodes(page: Page, server: Server) -> None:
    """zstddec fetches its wasm from a data: URL; a page whose Content-Security-Policy refuses that
    (connect-src 'self', as some embedding sites set) decodes with numcodecs instead, correctly."""
    def with_csp(route: Route) -> None:
        response = route.fetch()
        route.fulfill(response=response, headers={**response.headers, "content-security-policy": "connect-src 'self'"})

    page.route("**/view/ramp16", with_csp)
    worker_files: list[str] = []
    page.on("request", lambda r: worker_files.append(r.url) if "/dist/worker/" in r.url else None)
    open_viewer(page, server, "ramp16")
    got = page.evaluate("""() => { const v = window.chromatileViewer;
        return { values: v.valuesAt(129, 95), z: v.getState().z, failed: v.stats.requestsFailed }; }""")
    assert got["failed"] == 0
    assert [c["value"] for c in got["values"]] == server.arrays["ramp16"][:, got["z"], 95, 129].tolist()
    assert any("/zstd-" in u for u in worker_files), "the zstd decoder was tried"
    assert any("/blosc-" in u for u in worker_files), "and numcodecs/blosc decoded instead"
    assert not page.errors
