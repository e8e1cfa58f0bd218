"""Viv, the best peer viewer, on the same store in the same browser: bench/viewer's side-by-side column.

Viv (npm @hms-dbmi/viv, behind Avivator and Vitessce) is a bench-only dev dependency, bundled here with
esbuild. Its page and bundle are served by the bench's own `chromatile serve`, from a copy of our
viewer's folder with Viv under __viv/ (`site_with_viv`), so it shares the store's origin as our viewer
does, with no Playwright route: a route makes Playwright pause every request of the context, chunks
included, and turns its HTTP cache off (until 2026-11-25 23:30 Viv's sessions ran that way). Each measure is taken the same way for both viewers, in a fresh browser context (cold
cache) per session; sessions of the two viewers alternate (`compare`), so both see the same load:

- first complete view: navigation start to the first frame drawn with every visible tile of the target
  level loaded (chromatile: its first whenIdle(); Viv: the first frame after MultiscaleImageLayer's
  onViewportLoad, which deck.gl's TileLayer calls once every selected tile, i.e. every tile of the
  viewport's zoom level, has its data);
- contrast change: setting new window limits to the end of the next frame, GPU included (a 1-pixel
  readPixels waits for the GPU, which SwiftShader runs on the CPU);
- Z step to a slice not yet seen: right after the contrast changes, setting Z to the farthest slice
  (no chunk of it fetched before: checked) to the end of the first frame that draws every visible tile
  of it at the target level, GPU included (chromatile: whenIdle(); Viv: onViewportLoad, then a frame).
  The chunks of that slice each viewer fetched for it are counted, so both are seen to load the same.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BUNDLE = ROOT / "bench" / "out" / "viv" / "viv.js"
VIEWPORT = {"width": 1000, "height": 800}  # the same canvas size as our viewer's next to its panel
# .../<level>/<t>/<c>/<z>/<y>/<x> of a 0.4 store with axes t, c, z, y, x
CHUNK = re.compile(r"/data/[^?]+\.ome\.zarr/(\d+)/(\d+)/(\d+)/(\d+)/(\d+)/(\d+)$")

FINISH = "(canvas) => { const gl = canvas.getContext('webgl2'); gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(4)); }"
# Every chunk a session fetches stays listed (the default buffer keeps 250 resource entries).
RESOURCES = "performance.setResourceTimingBufferSize(100000);"
FIRST_IDLE = """
Object.defineProperty(window, 'chromatileViewer', {configurable: true, get() { return this.__v; }, set(v) {
  this.__v = v;
  v.whenIdle().then(() => { window.__firstIdle = performance.now(); });
}});
"""
# Chunk requests of slice `z` started before `at` and between `at` and `until` (ms, page clock): [level, ...].
CHUNKS_OF_Z = """([z, at, until]) => {
    const out = {before: 0, during: []};
    for (const r of performance.getEntriesByType('resource')) {
        const m = r.name.match(/\\.ome\\.zarr\\/(\\d+)\\/\\d+\\/\\d+\\/(\\d+)\\/\\d+\\/\\d+$/);
        if (!m || Number(m[2]) !== z) continue;
        if (r.startTime < at) out.before++;
        else if (r.startTime <= until) out.during.push(Number(m[1]));
    }
    return out;
}"""
CONTRAST_OURS = """async (finish) => {
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
}"""
ZSTEP_OURS = """async ([z, finish]) => {
    const fin = eval(finish), v = window.chromatileViewer, vv = v._viewer;
    const busy = [vv.inflight, vv.pool.pending.size], frames = vv.stats.frames, t0 = performance.now();
    v.setZ(z);
    await v.whenIdle();
    fin(v.canvas);
    const t1 = performance.now();
    return {ms: t1 - t0, at: t0, until: t1, busy, frames: vv.stats.frames - frames};
}"""
CONTRAST_VIV = """async ([lo, hi, finish]) => {
    const fin = eval(finish), canvas = document.querySelector('#viv canvas'), out = [];
    for (let i = 1; i <= 10; i++) {
        const t0 = performance.now();
        window.viv.set({limits: [lo + 10 * i, hi - 10 * i]});
        while (window.viv.frameAt <= t0) await new Promise(requestAnimationFrame);
        fin(canvas);
        out.push(performance.now() - t0);
    }
    return out;
}"""
ZSTEP_VIV = """async ([z, finish]) => {
    const fin = eval(finish), canvas = document.querySelector('#viv canvas'), v = window.viv;
    const loads = v.loads, frames = v.frames, t0 = performance.now();
    v.set({z});
    while (!(v.loads > loads && v.frameAt > v.loadedAt)) await new Promise(requestAnimationFrame);
    fin(canvas);
    const t1 = performance.now();
    return {ms: t1 - t0, at: t0, until: t1, busy: [0, 0], frames: v.frames - frames};
}"""


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


def site_with_viv(static: Path, out: Path) -> Path:
    """A copy of our viewer's built folder `static` at `out`, with Viv's page and bundle under __viv/: the
    folder the bench's server serves as its viewer (CHROMATILE_WEBCLIENT_DIR)."""
    build()
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(static, out)
    (out / "__viv").mkdir()
    shutil.copyfile(HERE / "page.html", out / "__viv" / "index.html")
    shutil.copyfile(BUNDLE, out / "__viv" / "viv.js")
    return out


def _zstep(page: Any, script: str, finish_args: list[Any]) -> dict[str, Any]:
    step = page.evaluate(script, finish_args)
    chunks = page.evaluate(CHUNKS_OF_Z, [finish_args[0], step["at"], step["until"]])
    return {"ms": float(step["ms"]), "busy": step["busy"], "frames": step["frames"], "seen": chunks["before"],
            "levels": sorted(chunks["during"])}


def chromatile_session(browser: Any, base: str, image_id: str, z: int, viewport: dict[str, int]) -> dict[str, Any]:
    """Our viewer's page /view/<id>, cold cache: first view, 10 contrast changes, then the Z step to `z`."""
    ctx = browser.new_context(viewport=viewport)
    page = ctx.new_page()
    page.add_init_script(RESOURCES + FIRST_IDLE)
    page.goto(f"{base}/view/{image_id}")
    page.wait_for_function("window.__firstIdle !== undefined", timeout=120_000)
    first = page.evaluate("() => window.__firstIdle")
    canvas = page.evaluate("() => { const c = window.chromatileViewer.canvas; return [c.width, c.height]; }")
    contrast = page.evaluate(CONTRAST_OURS, FINISH)
    step = _zstep(page, ZSTEP_OURS, [z, FINISH])
    ctx.close()
    return {"first": float(first), "contrast": contrast, "canvas": canvas, **step}


def viv_session(browser: Any, base: str, image_id: str, channels: int, limits: tuple[int, int],
                z0: int, z: int) -> dict[str, Any]:
    """Viv on the same image at the same plane, cold cache: the same three measures."""
    ctx = browser.new_context(viewport=VIEWPORT)
    page = ctx.new_page()
    page.add_init_script(RESOURCES)
    query = (f"url={base}/data/{image_id}.ome.zarr&width={VIEWPORT['width']}&height={VIEWPORT['height']}"
             f"&channels={','.join(map(str, range(channels)))}&lo={limits[0]}&hi={limits[1]}&z={z0}")
    page.goto(f"{base}/viewer/__viv/index.html?{query}")
    page.wait_for_function("window.viv && (window.viv.complete >= 0 || window.viv.error)", timeout=120_000)
    error = page.evaluate("() => window.viv.error")
    if error:
        ctx.close()
        raise RuntimeError(f"Viv could not open the image: {error}")
    first = page.evaluate("() => window.viv.complete")
    canvas = page.evaluate("() => { const c = document.querySelector('#viv canvas'); return [c.width, c.height]; }")
    contrast = page.evaluate(CONTRAST_VIV, [limits[0], limits[1], FINISH])
    step = _zstep(page, ZSTEP_VIV, [z, FINISH])
    ctx.close()
    return {"first": float(first), "contrast": contrast, "canvas": canvas, **step}


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def quartiles(values: list[float]) -> tuple[float, float]:
    """25th and 75th percentiles (inclusive method: within the values even for 3 runs)."""
    if len(values) < 2:
        return values[0], values[0]
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[0], q[2]


def verdict(ours: list[float], theirs: list[float]) -> str:
    """'ahead' only when our interquartile range lies wholly below Viv's, 'behind' when wholly above."""
    o, t = quartiles(ours), quartiles(theirs)
    if o[1] < t[0]:
        return "ahead"
    if o[0] > t[1]:
        return "behind"
    return "within the spread"


def compare(browser: Any, base: str, image_id: str, rounds: int, viewport: dict[str, int],
            against: str | None = None) -> dict[str, Any]:
    """Alternate sessions of our viewer and Viv (A B, B A, A B, ...) on `image_id`; every figure of both,
    the load average at the start and the end, and what each Z step fetched. `against`: the base URL of
    a server with another build of our viewer, whose sessions join each round (after ours)."""
    build()
    load0 = os.getloadavg()[0]
    ctx = browser.new_context(viewport=viewport)
    page = ctx.new_page()
    page.goto(f"{base}/view/{image_id}")
    page.wait_for_function("window.chromatileViewer !== undefined")
    state, size_z = page.evaluate("""async () => { const v = window.chromatileViewer; await v.ready;
        return [v.getState(), v.source.sizeZ]; }""")
    ctx.close()
    z0 = state["z"]
    limits = (round(state["channels"][0]["window"][0]), round(state["channels"][0]["window"][1]))
    target = 0 if z0 >= size_z / 2 else size_z - 1  # the farthest slice: outside any prefetch of ours
    channels = len(state["channels"])
    out: dict[str, Any] = {"z0": z0, "target": target, "channels": channels, "ours": [], "viv": [], "against": [],
                           "cannot": "cannot: at most 10 channels (MAX_CHANNELS)" if channels > 10 else ""}
    for i in range(rounds):
        sides = ["ours", "viv"] if i % 2 == 0 else ["viv", "ours"]
        for side in sides:
            if side == "ours":
                out["ours"].append(chromatile_session(browser, base, image_id, target, viewport))
                if against:
                    out["against"].append(chromatile_session(browser, against, image_id, target, viewport))
            elif not out["cannot"]:
                out["viv"].append(viv_session(browser, base, image_id, channels, limits, z0, target))
    out["load"] = (load0, os.getloadavg()[0])
    return out


def _cell(values: list[float]) -> str:
    q = quartiles(values)
    return f"{median(values):.0f} [{q[0]:.0f}-{q[1]:.0f}]"


def report(res: dict[str, Any], rounds: int) -> list[str]:
    """The side-by-side table: per measure the median [p25-p75] of each viewer, in how many rounds ours
    was faster, the verdict; then every run and what both measured (canvas, the Z step's chunks)."""
    ours, viv = res["ours"], res["viv"]
    lines = [f"\nside by side with Viv {viv_version()}, same store, browser and canvas; {rounds} rounds, "
             f"sessions alternating (ours first in odd rounds), load average {res['load'][0]:.1f} -> {res['load'][1]:.1f}",
             f"{'measure (ms, median [p25-p75])':52} {'chromatile':>18} {'Viv':>18}  faster in   verdict"]
    measures = [("first complete view (cold cache)", lambda s: s["first"]),
                ("contrast change to its frame, GPU done (median of 10)", lambda s: median(s["contrast"])),
                (f"Z step to a slice not yet seen ({res['z0']} -> {res['target']})", lambda s: s["ms"])]
    for label, get in measures:
        a = [get(s) for s in ours]
        if res["cannot"]:
            lines.append(f"{label:52} {_cell(a):>18} {res['cannot']}")
            continue
        b = [get(s) for s in viv]
        wins = sum(x < y for x, y in zip(a, b, strict=True))
        lines.append(f"{label:52} {_cell(a):>18} {_cell(b):>18}  {wins}/{len(a)} rounds  {verdict(a, b)}")
        if res["against"]:
            c = [get(s) for s in res["against"]]
            wins = sum(x < y for x, y in zip(a, c, strict=True))
            lines.append(f"{'  the --against build':52} {_cell(c):>18} {'':>18}  ours faster in {wins}/{len(a)} "
                         f"rounds: {verdict(a, c)}")
    if res["cannot"]:
        return lines
    lines.append("  runs, chromatile / Viv (first view; contrast median; Z step):")
    for i, (a, b) in enumerate(zip(ours, viv, strict=True)):
        c = res["against"][i] if res["against"] else None
        lines.append(f"    round {i + 1}: {a['first']:.0f} / {b['first']:.0f};  {median(a['contrast']):.0f} / "
                     f"{median(b['contrast']):.0f};  {a['ms']:.0f} / {b['ms']:.0f}"
                     + (f"   (--against: {c['first']:.0f}; {median(c['contrast']):.0f}; {c['ms']:.0f})" if c else ""))

    def fetched(s: dict[str, Any]) -> str:
        by = {lv: s["levels"].count(lv) for lv in sorted(set(s["levels"]))}
        return " + ".join(f"{n} of level {lv}" for lv, n in by.items()) or "none"

    lines.append(f"  same thing measured: canvas {'x'.join(map(str, ours[0]['canvas']))} / "
                 f"{'x'.join(map(str, viv[0]['canvas']))} device px; target slice's chunks fetched before the "
                 f"step (target 0): {max(s['seen'] for s in ours)} / {max(s['seen'] for s in viv)}")
    lines.append(f"  Z step fetched (first round): {fetched(ours[0])} / {fetched(viv[0])}; frames drawn during it: "
                 f"{', '.join(str(s['frames']) for s in ours)} / {', '.join(str(s['frames']) for s in viv)}")
    lines.append("  ours at the step (the old plane's prefetch): requests fetching or decoding / decodes in the "
                 f"workers: {', '.join(f'{s[0]}/{s[1]}' for s in (x['busy'] for x in ours))}")
    return lines
