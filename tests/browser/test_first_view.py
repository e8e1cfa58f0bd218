"""The viewer page's head start: the store's metadata and the decode workers (with the store's codec)
start from index.html while the bundle is still loading, and the viewer adopts them rather than asking
again. bench/viewer measures what this gains; these tests check that it happens and stays correct."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conftest import COUNT_COMPILES, Server, open_viewer
from playwright.sync_api import Page, Route
from served_store import ServedStores, served_ngff05

METADATA = ("/.zattrs", "/zarr.json", "/0/.zarray", "/1/.zarray")


def test_metadata_read_before_the_viewer_code_runs_and_once(page: Page, server: Server) -> None:
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url) if "/data/big16.ome.zarr/" in r.url else None)
    open_viewer(page, server, "big16")
    store = f"{server.url}/data/big16.ome.zarr"
    for suffix in METADATA:
        assert seen.count(store + suffix) == 1, f"{suffix} requested once (the preload adopted), got {seen.count(store + suffix)}"
    # The page started them before the viewer's module ran (its first mark), not the viewer itself.
    started = page.evaluate(
        """(urls) => urls.map((u) => performance.getEntriesByName(u)[0].startTime)""",
        [store + s for s in METADATA[:3]],
    )
    code = page.evaluate("() => performance.getEntriesByName('ct:page')[0].startTime")
    assert max(started[:2]) < code, (started, code)
    assert not page.errors


def test_decode_workers_started_by_the_page_are_adopted(page: Page, server: Server) -> None:
    open_viewer(page, server, "big16")
    adopted = page.evaluate("""() => ({
        left: window.chromatilePreload.workers,
        pool: window.chromatileViewer._viewer.pool.workers.length,
        cores: Math.max(2, Math.min(4, navigator.hardwareConcurrency || 2)),
        decoded: window.chromatileViewer.stats.decoded,
    })""")
    assert adopted["left"] is None, "the pool took the page's workers"
    assert adopted["pool"] == adopted["cores"]
    assert adopted["decoded"] > 0, "and they decoded the first view"
    assert not page.errors



# Records the size the viewer's canvas has when its WebGL context is made, and every later change of
# that canvas's size (each one reallocates the drawing buffer and waits for the GPU process).
CANVAS_SIZES = """
(() => {
  const getContext = HTMLCanvasElement.prototype.getContext;
  window.__contexts = [];
  window.__resizes = 0;
  HTMLCanvasElement.prototype.getContext = function (type, ...rest) {
    if (type === 'webgl2' && !this.__made) { this.__made = true; window.__contexts.push([this.width, this.height]); }
    return getContext.call(this, type, ...rest);
  };
  for (const prop of ['width', 'height']) {
    const d = Object.getOwnPropertyDescriptor(HTMLCanvasElement.prototype, prop);
    Object.defineProperty(HTMLCanvasElement.prototype, prop, { configurable: true, get: d.get,
      set(v) { if (this.__made) window.__resizes++; d.set.call(this, v); } });
  }
})();
"""


def test_webgl_context_is_made_at_the_canvas_size_and_never_resized(page: Page, server: Server) -> None:
    page.add_init_script(CANVAS_SIZES)
    open_viewer(page, server, "big16")
    made = page.evaluate("() => ({contexts: window.__contexts, resizes: window.__resizes, "
                         "size: [window.chromatileViewer.canvas.width, window.chromatileViewer.canvas.height]})")
    assert made["contexts"] == [made["size"]], f"one context, made at the canvas size: {made}"
    assert made["resizes"] == 0, f"the canvas was resized {made['resizes']} times after its context was made"
    assert not page.errors


# Holds every chunk request of big16's level 2 (the fitted view's level: 4 x 4 tiles x 2 channels)
# until the test lets it go (window.__held), and records every frame drawn from the first on.
HOLD_VIEW_CHUNKS = r"""
(() => {
  const fetch = window.fetch.bind(window);
  window.__held = [];
  window.fetch = (url, init) => /\/big16\.ome\.zarr\/2\/\d+\/\d+\/\d+\/\d+\/\d+$/.test(String(url))
    ? new Promise((resolve, reject) => window.__held.push(() => fetch(url, init).then(resolve, reject)))
    : fetch(url, init);
  window.__frames = [];
  Object.defineProperty(window, 'chromatileViewer', { configurable: true, get() { return this.__v; }, set(v) {
    this.__v = v;
    v.on('frame', (f) => window.__frames.push({ complete: f.complete, draws: f.draws, uncovered: f.uncovered,
                                                level: f.level }));
  } });
})();
"""


def test_no_program_is_compiled_while_the_first_view_loads(page: Page, server: Server) -> None:
    # A link's colormaps take the general program until their own is built, which waits for the
    # first view like the later plain programs: a compile would compete with it (and a frame of it
    # waited for that compile on a GPU without parallel shader compiles).
    page.add_init_script(COUNT_COMPILES)
    page.add_init_script(HOLD_VIEW_CHUNKS)
    page.goto(f"{server.url}/view/big16#ch=1,ff0000,0,60000,1,0,fire;1,00ff80,0,60000,1,0,viridis")
    page.wait_for_function("window.chromatileViewer !== undefined")
    compiles = page.evaluate("""async () => {
        const v = window.chromatileViewer, seen = [];
        v.on('frame', (f) => seen.push([f.complete, window.__compiles, v._viewer.renderer.lastProgram]));
        await v.ready;
        const until = (ok) => new Promise((resolve) => { const f = () => ok() ? resolve() : requestAnimationFrame(f); f(); });
        while (!v._viewer.complete) {
            await until(() => window.__held.length > 0 || v._viewer.complete);
            if (v._viewer.complete) break;
            const uploads = v.stats.uploads;
            window.__held.shift()();
            await until(() => v.stats.uploads > uploads || v._viewer.complete);
            await new Promise(requestAnimationFrame);
        }
        await v.whenIdle();
        // then a contrast change: the mix's own program is built after it
        v.setChannel(0, {window: [100, 50000]});
        await v.whenIdle();
        v.setChannel(0, {window: [200, 50000]});
        await v.whenIdle();
        return seen;
    }""")
    loading = [c for c in compiles if not c[0]]
    assert len(loading) >= 2, f"the first view was drawn in stages: {compiles}"
    assert {c[1] for c in loading} == {loading[0][1]}, f"compiles while the first view loaded: {compiles}"
    assert all(c[2] == "general" for c in loading), compiles
    assert compiles[-1][2] == "mapped", compiles
    assert not page.errors


def test_first_view_draws_coarse_then_a_frame_per_quarter_not_one_per_chunk(page: Page, server: Server) -> None:
    page.add_init_script(HOLD_VIEW_CHUNKS)
    page.goto(f"{server.url}/view/big16")
    page.wait_for_function("window.chromatileViewer !== undefined")
    # The view's chunks arrive one at a time, each once the one before is on the GPU and two
    # animation frames have passed: without pacing, every arrival is drawn.
    released = page.evaluate("""async () => {
        const v = window.chromatileViewer;
        await v.ready;
        const until = (ok) => new Promise((resolve) => { const f = () => ok() ? resolve() : requestAnimationFrame(f); f(); });
        let released = 0;
        for (;;) {
            await until(() => window.__held.length > 0 || v._viewer.complete);
            if (v._viewer.complete) break;
            const uploads = v.stats.uploads;
            window.__held.shift()();
            released++;
            await until(() => v.stats.uploads > uploads || v._viewer.complete);
            await new Promise(requestAnimationFrame);
            await new Promise(requestAnimationFrame);
        }
        await v.whenIdle();
        return released;
    }""")
    frames = page.evaluate("() => window.__frames")
    first = next(i for i, f in enumerate(frames) if f["complete"])
    before = frames[:first]
    assert released == 32, "the view's 16 tiles x 2 channels arrived one by one"
    assert before, "the coarse level was shown before the view was complete"
    assert all(f["draws"] > 0 for f in frames), f"no frame drew nothing: {frames}"
    assert not before[0]["uncovered"] and before[0]["level"] == 2, "the first frame drawn covers the view"
    # The coarse stand-in, then a frame at 4, 8 and 12 of the 16 tiles, then the complete view.
    assert len(before) <= 4, f"{len(before)} frames drawn while the view loaded: {before}"
    assert not page.errors


def test_metadata_is_asked_for_before_the_stylesheet_has_loaded(page: Page, server: Server) -> None:
    held: list[Route] = []
    page.route("**/viewer/viewer.css", lambda route: held.append(route))  # noqa: PLW0108 - playwright cannot tag a bound builtin
    # While viewer.css is held back, the page's preload already reads the store's metadata (a script
    # placed after the stylesheet would wait for it).
    with page.expect_request(f"{server.url}/data/big16.ome.zarr/.zattrs", timeout=15_000):
        page.goto(f"{server.url}/view/big16", wait_until="commit")
    page.wait_for_function("window.chromatilePreload instanceof Map")
    assert held, "viewer.css was asked for and is still held"
    held[0].continue_()
    page.wait_for_function("window.chromatileViewer !== undefined")
    page.evaluate("async () => { await window.chromatileViewer.ready; await window.chromatileViewer.whenIdle(); }")
    assert not page.errors


@pytest.fixture(scope="module")
def served05(tmp_path_factory: pytest.TempPathFactory, webclient_built: Any) -> Iterator[ServedStores]:
    with served_ngff05(tmp_path_factory.mktemp("first05")) as s:
        yield s


# Records what the page asks the decode workers to warm (load their codec for) ahead of any chunk.
WARMS = """
(() => {
  window.__warms = [];
  const post = Worker.prototype.postMessage;
  Worker.prototype.postMessage = function (msg, ...rest) {
    if (msg && msg.warm !== undefined) window.__warms.push(msg.warm);
    return post.call(this, msg, ...rest);
  };
})();
"""


def test_0_5_store_codec_is_warmed_before_the_viewer_code_runs(page: Page, served05: ServedStores) -> None:
    page.add_init_script(WARMS)
    held: list[Route] = []
    page.route("**/viewer/dist/chromatile.js", lambda route: held.append(route))  # noqa: PLW0108 - playwright cannot tag a bound builtin
    page.goto(f"{served05.url}/view/own5", wait_until="commit")
    # The viewer's bundle is held back: only the page's preload can have warmed the workers.
    page.wait_for_function("window.__warms.length >= 2", timeout=15_000)
    early = page.evaluate("() => window.__warms")
    held[0].continue_()
    page.wait_for_function("window.chromatileViewer !== undefined")
    spec = page.evaluate("""async () => { const v = window.chromatileViewer; await v.ready; await v.whenIdle();
                                          return v._viewer.source.levels[0].compressor; }""")
    assert spec["codecs"], "own5's chunks are compressed"
    # The same codecs and configurations as the viewer's decode spec: the workers' codec cache is
    # keyed by both, so the chunks' decodes find what the page warmed.
    assert early[0] == {"codecs": spec["codecs"]}, (early, spec)
    assert not page.errors


def test_viewer_module_is_fetched_by_the_page_head(page: Page, server: Server) -> None:
    # The page imports the viewer from an inline module script, which the browser's preload scanner
    # cannot read: the head's modulepreload asks for it before the parser gets there.
    open_viewer(page, server, "big16")
    bundle, attrs = f"{server.url}/viewer/dist/chromatile.js", f"{server.url}/data/big16.ome.zarr/.zattrs"
    # The body's first script (the preload) asks for the metadata: the bundle was on its way before.
    started = page.evaluate("(urls) => urls.map((u) => performance.getEntriesByName(u)[0].startTime)", [bundle, attrs])
    assert started[0] < started[1], f"bundle asked for at {started[0]:.1f} ms, the metadata at {started[1]:.1f} ms"
    assert not page.errors


def test_minimap_and_its_thumbnail_wait_for_the_first_view(page: Page, server: Server) -> None:
    thumbnails: list[str] = []
    page.on("request", lambda r: thumbnails.append(r.url) if r.url.endswith("/thumbnail.png") else None)
    page.add_init_script(HOLD_VIEW_CHUNKS)
    page.goto(f"{server.url}/view/big16")
    page.wait_for_function("window.chromatileViewer !== undefined")
    page.evaluate("() => window.chromatileViewer.ready")
    page.wait_for_function("window.__held.length > 0")
    # The view's chunks are held, so the first view cannot be complete: the minimap has drawn nothing and
    # its thumbnail is not asked for (both competed with the chunks for the main thread and the server).
    blank = page.evaluate("""() => {
        const c = document.querySelector('.ct-minimap');
        return c.getContext('2d').getImageData(0, 0, c.width, c.height).data.every((v) => v === 0);
    }""")
    assert blank, "the minimap drew before the first view was complete"
    assert not thumbnails
    page.evaluate("""async () => {
        const v = window.chromatileViewer;
        const release = () => { while (window.__held.length) window.__held.shift()(); };
        const until = (ok) => new Promise((resolve) => { const f = () => { release(); ok() ? resolve() : requestAnimationFrame(f); }; f(); });
        await until(() => v._viewer.complete);
    }""")
    page.wait_for_function("document.querySelector('.ct-minimap').dataset.thumbnail === 'store'")
    assert len(thumbnails) == 1
    assert not page.errors


def test_no_collation_data_is_loaded_before_the_first_view(page: Page, server: Server) -> None:
    # The first localeCompare (or Intl.Collator) of a page loads the browser's collation data: 8-15 ms of
    # the main thread here, which the viewer's start does not need (its names are plain identifiers).
    page.add_init_script("""(() => {
        window.__collations = [];
        const localeCompare = String.prototype.localeCompare, Collator = Intl.Collator;
        String.prototype.localeCompare = function (...args) {
            window.__collations.push(new Error().stack);
            return localeCompare.apply(this, args);
        };
        Intl.Collator = function (...args) { window.__collations.push(new Error().stack); return new Collator(...args); };
    })();""")
    open_viewer(page, server, "big16")
    assert page.evaluate("() => window.__collations") == []
    assert not page.errors
