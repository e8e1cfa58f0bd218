"""Browser end-to-end fixtures: small stores with known pixels, the real app, one headless Chromium.

Stores are ingested with chromatile's own ingest from TIFFs written here, served by
`chromatile.create_app` on 127.0.0.1, and viewed through the built-in page in /usr/bin/chromium with
software WebGL (SwiftShader).
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import imagecodecs
import numpy as np
import pytest
import tifffile
from playwright.sync_api import Browser, Page, sync_playwright
from werkzeug.serving import WSGIRequestHandler, make_server

import chromatile
from chromatile.ingest import ingest

REPO = Path(__file__).resolve().parents[2]
WEBCLIENT = REPO / "webclient"
SIDEBAR = 280  # px, .ct-sidebar in viewer.css
CANVAS = 256
ADMIN_TOKEN = "test-admin-token"
CHROMIUM_ARGS = [
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
]


def _sources_newer_than(target: Path) -> bool:
    if not target.exists():
        return True
    built = target.stat().st_mtime
    watched = [REPO / "package.json", WEBCLIENT / "build.mjs", *(WEBCLIENT / "src").rglob("*.js"),
               *WEBCLIENT.glob("*.html"), *WEBCLIENT.glob("*.css"), *(REPO / "shaders").glob("*.glsl")]
    return any(p.stat().st_mtime > built for p in watched)


@pytest.fixture(scope="session")
def webclient_built() -> Path:
    """The served viewer's bundle, built (npm ci + npm run build) when missing or older than its sources."""
    bundle = REPO / "server" / "chromatile" / "static" / "dist" / "chromatile.js"
    if _sources_newer_than(bundle):
        npm = shutil.which("npm")
        assert npm, "npm is needed to build the viewer"
        if not (REPO / "node_modules" / "esbuild").exists():
            subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=REPO, check=True)
        subprocess.run([npm, "run", "build"], cwd=REPO, check=True)
    return bundle


# ---- known data -------------------------------------------------------------------------------

def ramp16() -> np.ndarray:
    """(C=2, Z=3, Y=96, X=130) uint16: channel 0 ramps along x, channel 1 along y; Z adds an offset.
    Channel 1 of z=0 is zero over the tile (ty=0, tx=1) so its chunk may be left out of the store."""
    z, y, x = np.mgrid[0:3, 0:96, 0:130]
    a = np.empty((2, 3, 96, 130), np.uint16)
    a[0] = x * 500 + z * 97
    a[1] = y * 600 + z * 3000 + (x % 7) * 10
    a[1, 0, 0:64, 64:128] = 0
    return a


def six8() -> np.ndarray:
    """(C=6, Z=1, Y=64, X=96) uint8 with a different pattern per channel."""
    y, x = np.mgrid[0:64, 0:96]
    a = np.empty((6, 1, 64, 96), np.uint8)
    for c in range(6):
        a[c, 0] = ((x * 3 + c * 37) % 256) if c % 2 == 0 else ((y * 4 + x // 16 * 9 + c * 23) % 256)
    return a


def stack8(z: int) -> np.ndarray:
    """(C=2, Z=z, Y=64, X=64) uint8, plane z holding 10 * (z + 1) + channel."""
    a = np.zeros((2, z, 64, 64), np.uint8)
    for i in range(z):
        a[0, i] = 10 * (i + 1)
        a[1, i] = 10 * (i + 1) + 1
    return a


def many16(channels: int = 12) -> np.ndarray:
    """(C, Z=1, Y=48, X=80) uint16, channel c a diagonal ramp with its own slope and offset."""
    y, x = np.mgrid[0:48, 0:80]
    a = np.empty((channels, 1, 48, 80), np.uint16)
    for c in range(channels):
        a[c, 0] = (x * (100 + 40 * c) + y * (60 * (c % 3)) + 1500 * c) % 65536
    return a


def timed8() -> np.ndarray:
    """(T=4, C=2, Z=2, Y=64, X=64) uint8, plane (t, z) holding 40 * t + 10 * z + 5 + channel."""
    a = np.zeros((4, 2, 2, 64, 64), np.uint8)
    for t in range(4):
        for z in range(2):
            a[t, 0, z] = 40 * t + 10 * z + 5
            a[t, 1, z] = 40 * t + 10 * z + 6
    return a


def big16() -> np.ndarray:
    """(C=2, Z=3, Y=1024, X=1024) uint16 smooth gradients: 16 x 16 tiles of 64 at level 0, 5 levels."""
    z, y, x = np.mgrid[0:3, 0:1024, 0:1024]
    a = np.empty((2, 3, 1024, 1024), np.uint16)
    a[0] = x * 60 + z * 100
    a[1] = y * 60 + z * 100
    return a


IMAGES = {
    "ramp16": ramp16,
    "six8": six8,
    "many16": many16,
    "many40": lambda: many16(40),
    "many64": lambda: many16(64),
    "timed8": timed8,
    "big16": big16,
    "gone": lambda: stack8(2),
    "late": lambda: stack8(12),
    "saved": lambda: stack8(1),
}
AXES = {"timed8": "TCZYX"}


class QuietHandler(WSGIRequestHandler):
    """No access log: a test run makes thousands of tile requests."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@dataclass
class Server:
    url: str
    data_dir: Path
    arrays: dict[str, np.ndarray]


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, webclient_built: Path) -> Iterator[Server]:
    """The real chromatile app on 127.0.0.1 over a data dir of ingested known images."""
    root = tmp_path_factory.mktemp("viewer")
    src, data = root / "src", root / "data"
    src.mkdir()
    data.mkdir()
    arrays = {}
    for name, make in IMAGES.items():
        arr = make()
        arrays[name] = arr
        tif = src / f"{name}.ome.tif"
        tifffile.imwrite(tif, arr, metadata={"axes": AXES.get(name, "CZYX"), "PhysicalSizeX": 0.25,
                                             "PhysicalSizeXUnit": "µm", "PhysicalSizeY": 0.25,
                                             "PhysicalSizeYUnit": "µm"}, ome=True)
        ingest(tif, data, image_id=name, tile=64)
    app = chromatile.create_app({"data_dir": data, "admin_token": ADMIN_TOKEN})
    httpd = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield Server(f"http://127.0.0.1:{httpd.server_port}", data, arrays)
    finally:
        httpd.shutdown()
        thread.join()


@pytest.fixture(scope="session")
def browser(request: pytest.FixtureRequest) -> Iterator[Browser]:
    """One headless Chromium for the whole run, with software WebGL2.

    tests/publish loads these fixtures under another module name, which makes a second session
    fixture; Playwright's sync API runs once per thread, so the second one reuses the first's browser.
    """
    shared = getattr(request.config, "_chromatile_browser", None)
    if shared is not None:
        yield shared
        return
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        setattr(request.config, "_chromatile_browser", b)  # noqa: B010 (an attribute pytest does not declare)
        try:
            yield b
        finally:
            delattr(request.config, "_chromatile_browser")
            b.close()


# An init script counting shader compiles in window.__compiles (tests that assert "never recompiles").
COUNT_COMPILES = """(() => {
    const p = WebGL2RenderingContext.prototype, f = p.compileShader;
    window.__compiles = 0;
    p.compileShader = function (s) { window.__compiles++; return f.call(this, s); };
})()"""


DOCKED_PANEL = """(() => {
  const dock = () => document.documentElement.style.setProperty('--ct-fold-below', '0px');
  if (document.documentElement) dock();
  else new MutationObserver((_, obs) => { if (document.documentElement) { dock(); obs.disconnect(); } })
    .observe(document, { childList: true });
})();"""


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page whose viewer canvas is CANVAS x CANVAS CSS pixels at device pixel ratio 1."""
    context = browser.new_context(viewport={"width": CANVAS + SIDEBAR, "height": CANVAS}, device_scale_factor=1)
    # The tests of the docked panel keep it next to a 256 px canvas, below the width where the panel
    # folds away for people (test_layout.py tests the fold with the default).
    context.add_init_script(DOCKED_PANEL)
    pg = context.new_page()
    pg.errors = []  # type: ignore[attr-defined]
    pg.on("pageerror", lambda exc: pg.errors.append(str(exc)))  # type: ignore[attr-defined]
    yield pg
    context.close()


# ---- helpers used by the tests ----------------------------------------------------------------

def open_viewer(page: Page, server: Server, image_id: str, suffix: str = "") -> None:
    """Open /view/<id> and wait until the store is open and the first view is complete."""
    page.goto(f"{server.url}/view/{image_id}{suffix}")
    page.wait_for_function("window.chromatileViewer !== undefined")
    page.evaluate("async () => { await window.chromatileViewer.ready; await window.chromatileViewer.whenIdle(); }")


def press_keys(page: Page, *keys: str) -> None:
    """Give the viewer's stage the keyboard focus (a slider may hold it) and press `keys` in order."""
    page.locator(".ct-stage").focus()
    for key in keys:
        page.keyboard.press(key)


def render(page: Page, state: dict[str, Any] | None = None) -> np.ndarray:
    """Apply `state` (as getState() returns, any part), wait for whenIdle(), return the canvas as (H, W, 3) uint8."""
    url = page.evaluate(
        """async (state) => {
            const v = window.chromatileViewer;
            await v.ready;
            if (state) v.setState(state);
            await v.whenIdle();
            return v.canvas.toDataURL('image/png');
        }""",
        state,
    )
    png = base64.b64decode(url.split(",", 1)[1])
    return imagecodecs.png_decode(png)[..., :3]


def canvas_size(page: Page) -> tuple[int, int]:
    w, h = page.evaluate("() => [window.chromatileViewer.canvas.width, window.chromatileViewer.canvas.height]")
    return int(w), int(h)


def assert_close(actual: np.ndarray, expected: np.ndarray, tol: float = 2.0) -> None:
    """Canvas bytes within `tol` of the reference (float rgb in [0, 1]) everywhere."""
    exp = expected * 255.0
    diff = np.abs(actual.astype(np.float64) - exp)
    worst = np.unravel_index(np.argmax(diff), diff.shape)
    assert diff.max() <= tol, (
        f"max difference {diff.max():.1f}/255 at (y, x, rgb) {worst}: got {actual[worst]}, expected {exp[worst]:.1f}; "
        f"{int((diff > tol).sum())} values off"
    )


# ---- another origin: stores written by other tools, pages that embed the viewer ---------------

class CorsHandler(SimpleHTTPRequestHandler):
    """A plain static file host (like a CDN or S3 bucket) that lets any origin read its files."""

    def end_headers(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")
        super().end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@dataclass
class StaticHost:
    url: str
    root: Path


@pytest.fixture(scope="session")
def static_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StaticHost]:
    """A second origin on 127.0.0.1 serving a directory as static files, with CORS."""
    root = tmp_path_factory.mktemp("static")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(CorsHandler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield StaticHost(f"http://127.0.0.1:{httpd.server_port}", root)
    finally:
        httpd.shutdown()
        thread.join()
