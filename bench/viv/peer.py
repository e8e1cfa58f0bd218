"""Viv, the best peer viewer, on the same store in the same browser: bench/viewer's side-by-side column.

Viv (npm @hms-dbmi/viv, behind Avivator and Vitessce) is a bench-only dev dependency, bundled here with
esbuild. Its page is answered by Playwright at <server>/__viv/ so it shares the store's origin, as our
viewer does. Each measure is taken the same way for both viewers:

- first complete view: navigation start to the first frame drawn with every visible tile loaded
  (chromatile: whenIdle(); Viv: the first frame after MultiscaleImageLayer's onViewportLoad);
- contrast change: setting new window limits to the end of the next frame, GPU included (a 1-pixel
  readPixels waits for the GPU, which SwiftShader runs on the CPU);
- Z step to a slice not yet seen: setting Z to the end of the first frame with all of its tiles.
"""

from __future__ import annotations

import statistics
import subprocess
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BUNDLE = ROOT / "bench" / "out" / "viv" / "viv.js"
VIEWPORT = {"width": 1000, "height": 800}  # the same canvas size as our viewer's next to its panel

FINISH = "(canvas) => { const gl = canvas.getContext('webgl2'); gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(4)); }"


def viv_version() -> str:
    import json

    return json.loads((ROOT / "node_modules" / "@hms-dbmi" / "viv" / "package.json").read_text())["version"]


def build() -> None:
    """Bundle Viv and our small driver (minified, as an app would ship it) unless already built."""
    sources = [HERE / "entry.js", ROOT / "package-lock.json"]
    if BUNDLE.is_file() and all(s.stat().st_mtime < BUNDLE.stat().st_mtime for s in sources):
        return
    BUNDLE.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["npx", "--no-install", "esbuild", str(HERE / "entry.js"), "--bundle", "--minify",
                    "--format=esm", f"--outfile={BUNDLE}", "--log-level=warning"], cwd=ROOT, check=True)


def _serve_page(route: Any) -> None:
    name = route.request.url.split("/__viv/", 1)[1].split("?", 1)[0]
    if name == "viv.js":
        route.fulfill(path=str(BUNDLE), content_type="text/javascript")
    else:
        route.fulfill(path=str(HERE / "page.html"), content_type="text/html")


def open_viv(browser: Any, base: str, image_id: str, channels: int, limits: tuple[int, int],
             z: int) -> tuple[Any, Any]:
    """A fresh context (cold cache) with Viv on the image; returns (context, page) once its view is complete."""
    ctx = browser.new_context(viewport=VIEWPORT)
    ctx.route(f"{base}/__viv/**", _serve_page)
    page = ctx.new_page()
    query = (f"url={base}/data/{image_id}.ome.zarr&width={VIEWPORT['width']}&height={VIEWPORT['height']}"
             f"&channels={','.join(map(str, range(channels)))}&lo={limits[0]}&hi={limits[1]}&z={z}")
    page.goto(f"{base}/__viv/index.html?{query}")
    page.wait_for_function("window.viv && (window.viv.complete >= 0 || window.viv.error)", timeout=120_000)
    error = page.evaluate("() => window.viv.error")
    if error:
        raise RuntimeError(f"Viv could not open the image: {error}")
    return ctx, page


def viv_first_view(browser: Any, base: str, image_id: str, channels: int, limits: tuple[int, int],
                   z: int) -> float:
    ctx, page = open_viv(browser, base, image_id, channels, limits, z)
    ms = page.evaluate("() => window.viv.complete")
    ctx.close()
    return float(ms)


def viv_contrast_and_z(browser: Any, base: str, image_id: str, channels: int, limits: tuple[int, int],
                       z0: int, z: int) -> tuple[list[float], float]:
    """ms of 10 contrast changes (each to its frame), then ms of one Z step from `z0` to `z` (not yet seen)."""
    ctx, page = open_viv(browser, base, image_id, channels, limits, z0)
    contrast = page.evaluate(
        """async ([lo, hi, finish]) => {
            const fin = eval(finish), canvas = document.querySelector('#viv canvas'), out = [];
            for (let i = 1; i <= 10; i++) {
                const t0 = performance.now();
                window.viv.set({limits: [lo + 10 * i, hi - 10 * i]});
                while (window.viv.frameAt <= t0) await new Promise(requestAnimationFrame);
                fin(canvas);
                out.push(performance.now() - t0);
            }
            return out;
        }""",
        [limits[0], limits[1], FINISH],
    )
    zstep = page.evaluate(
        """async ([z, finish]) => {
            const fin = eval(finish), canvas = document.querySelector('#viv canvas'), v = window.viv;
            const loads = v.loads, t0 = performance.now();
            v.set({z});
            while (!(v.loads > loads && v.frameAt > v.loadedAt)) await new Promise(requestAnimationFrame);
            fin(canvas);
            return performance.now() - t0;
        }""",
        [z, FINISH],
    )
    ctx.close()
    return contrast, float(zstep)


def chromatile_contrast_and_z(browser: Any, url: str, z: int, viewport: dict[str, int]) -> tuple[list[float], float]:
    """The same two measures in our viewer at `url` (its own page, cold cache)."""
    ctx = browser.new_context(viewport=viewport)
    page = ctx.new_page()
    page.goto(url)
    page.wait_for_function("window.chromatileViewer !== undefined")
    page.evaluate("() => window.chromatileViewer.whenIdle()")
    contrast = page.evaluate(
        """async (finish) => {
            const fin = eval(finish), v = window.chromatileViewer, out = [];
            const [lo, hi] = v.getState().channels[0].window;
            for (let i = 1; i <= 10; i++) {
                const t0 = performance.now();
                const drawn = new Promise((res) => { const off = v.on('frame', () => { off(); res(); }); });
                v.setChannel(0, {window: [lo + 10 * i, hi - 10 * i]});
                await drawn;
                fin(v.canvas);
                out.push(performance.now() - t0);
            }
            return out;
        }""",
        FINISH,
    )
    zstep = page.evaluate(
        """async ([z, finish]) => {
            const fin = eval(finish), v = window.chromatileViewer, t0 = performance.now();
            v.setZ(z);
            await v.whenIdle();
            fin(v.canvas);
            return performance.now() - t0;
        }""",
        [z, FINISH],
    )
    ctx.close()
    return contrast, float(zstep)


def median(values: list[float]) -> float:
    return float(statistics.median(values))
