"""Shaders defined at run time (issue 11): colormaps, blends and compositing shaders with #uicontrol
controls, checked pixel by pixel against NumPy; errors in the user's line numbers; 0 requests and 0
texture uploads throughout."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import ADMIN_TOKEN, COUNT_COMPILES, Server, assert_close, canvas_size, open_viewer, render
from playwright.sync_api import Page
from test_compositing import VIEW, channel, expected
from viewer_reference import view_of, windowed

pytestmark = pytest.mark.browser

COLORMAP = """// A colormap tried live: the same text as a shaders/colormap_dusk.glsl file.
vec3 colormap_dusk(float t, vec3 color) {
  return vec3(t * t, sqrt(t), 1.0 - 0.5 * t);
}"""

SCREEN = """// Screen: 1 - (1 - acc)(1 - rgb), never brighter than white.
vec3 blend_screen(vec3 acc, vec3 rgb) {
  return 1.0 - (1.0 - acc) * (1.0 - rgb);
}"""

RATIO = """#uicontrol float top slider(min=0.5, max=4, default=2)
#uicontrol vec3 tint color(default="#ffcc00")
#uicontrol bool second checkbox(default=true)
// The ratio of the first two visible channels, 0..top shown as black..tint.
vec3 composite() {
  float r = raw(0) / max(raw(1), 1.0);
  vec3 rgb = clamp(r / top, 0.0, 1.0) * tint;
  if (second) rgb += 0.5 * windowed(1) * channelColor(1);
  return rgb;
}"""


def settled_counters(page: Page) -> tuple[int, int]:
    """Requests and uploads so far, once the view and its margin and prefetch have all arrived."""
    page.wait_for_function("window.chromatileViewer.settled")
    return counters(page)


def counters(page: Page) -> tuple[int, int]:
    return tuple(page.evaluate("() => [window.chromatileViewer.stats.requests, window.chromatileViewer.stats.uploads]"))


def call(page: Page, js: str, *args: Any) -> Any:
    """Run an async viewer call; returns None or the rejection as {name, line, message}."""
    return page.evaluate(
        f"""async (args) => {{
            const v = window.chromatileViewer;
            try {{ await ({js})(v, ...args); return null; }}
            catch (e) {{ return {{name: e.name, line: e.line, message: e.message}}; }}
        }}""",
        list(args),
    )


def ratio_reference(server: Server, ch: list[dict[str, Any]], top: float, tint: str, second: bool,
                    size: tuple[int, int]) -> np.ndarray:
    planes = server.arrays["ramp16"][:, 0].astype(np.float64)
    r = planes[0] / np.maximum(planes[1], 1.0)
    rgb_tint = np.array([int(tint[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    rgb = np.clip(r / top, 0, 1)[..., None] * rgb_tint
    if second:
        c1 = np.array([int(ch[1]["color"][i:i + 2], 16) / 255 for i in (1, 3, 5)])
        rgb = rgb + 0.5 * windowed(planes[1], ch[1])[..., None] * c1
    return view_of(np.clip(rgb, 0, 1), VIEW["center"], VIEW["zoom"], *size)


def test_runtime_colormap_and_blend(page: Page, server: Server) -> None:
    open_viewer(page, server, "ramp16")
    render(page, {"view": VIEW, "z": 0})
    before = settled_counters(page)
    assert call(page, "(v, n, s) => v.defineColormap(n, s)", "dusk", COLORMAP) is None
    assert call(page, "(v, n, s) => v.defineBlend(n, s)", "screen", SCREEN) is None
    assert page.evaluate("() => window.chromatileViewer.colormaps").count("dusk") == 1
    assert "screen" in page.evaluate("() => window.chromatileViewer.blendModes")
    # The panel's menus offer them.
    assert page.locator(".ct-blend option[value=screen]").count() == 1
    assert page.locator(".ct-colormap").first.locator("option[value=dusk]").count() == 1
    channels = [channel("#ff0000", [5000, 50000], colormap="dusk"), channel("#00ff80", [1000, 30000], gamma=0.7)]
    got = render(page, {"view": VIEW, "z": 0, "blend": "screen", "channels": channels})
    exp = expected(server, "ramp16", 0, channels, "screen", VIEW, canvas_size(page))
    assert_close(got, exp)
    assert got[:192].std() > 20
    # Contrast changes of the same mix: drawn, exactly, by its own program (with dusk and screen) once
    # it is built (the next frame on a GPU without parallel shader compiles).
    used = "() => window.chromatileViewer._viewer.renderer.lastProgram"
    for k in range(10):
        channels[0]["window"] = [5000 + 700 * k, 50000 - 900 * k]
        got = render(page, {"channels": channels})
        assert_close(got, expected(server, "ramp16", 0, channels, "screen", VIEW, canvas_size(page)))
        if page.evaluate(used) == "mapped":
            break
    assert page.evaluate(used) == "mapped"
    # Built-in colormaps keep their ids: the other channel's viridis is unchanged next to it.
    channels[1]["colormap"] = "viridis"
    got = render(page, {"channels": channels, "blend": "additive"})
    assert_close(got, expected(server, "ramp16", 0, channels, "additive", VIEW, canvas_size(page)))
    assert counters(page) == before, "shading changes made requests or uploads"
    assert not page.errors


def test_compositing_shader_with_controls(page: Page, server: Server) -> None:
    open_viewer(page, server, "ramp16")
    channels = [channel("#ff0000", [5000, 50000]), channel("#00ff80", [1000, 30000], gamma=1.5)]
    render(page, {"view": VIEW, "z": 0, "channels": channels})
    before = settled_counters(page)
    assert call(page, "(v, s) => v.setShader(s)", RATIO) is None
    controls = page.evaluate("() => window.chromatileViewer.shaderControls")
    assert [(c["name"], c["value"]) for c in controls] == [("top", 2), ("tint", "#ffcc00"), ("second", True)]
    got = render(page)
    assert_close(got, ratio_reference(server, channels, 2, "#ffcc00", True, canvas_size(page)))
    page.evaluate("() => window.chromatileViewer.setShaderControl('top', 0.75)")
    page.evaluate("() => window.chromatileViewer.setShaderControl('second', false)")
    got2 = render(page)
    assert_close(got2, ratio_reference(server, channels, 0.75, "#ffcc00", False, canvas_size(page)))
    assert np.abs(got2.astype(int) - got).max() > 50, "the controls changed nothing"
    state = page.evaluate("() => window.chromatileViewer.getState().shader")
    assert state == {"source": RATIO, "controls": {"top": 0.75, "tint": "#ffcc00", "second": False}}
    # The panel shows the controls; moving the slider is setShaderControl.
    slider = page.locator(".ct-shader-controls input[type=range][data-control=top]")
    assert slider.count() == 1
    assert slider.input_value() == "0.75"
    assert page.locator(".ct-shader-controls input[data-control=tint]").input_value() == "#ffcc00"
    # Back to the built-in: exactly the built-in picture again.
    assert call(page, "(v) => v.setShader(null)") is None
    assert page.evaluate("() => window.chromatileViewer.getState().shader") is None
    assert_close(render(page), expected(server, "ramp16", 0, channels, "additive", VIEW, canvas_size(page)))
    assert counters(page) == before, "shading changes made requests or uploads"
    assert not page.errors


def test_compile_error_rejects_with_its_line_and_changes_nothing(page: Page, server: Server) -> None:
    open_viewer(page, server, "ramp16")
    channels = [channel("#ff0000", [5000, 50000]), channel("#00ff80", [1000, 30000])]
    shown = render(page, {"view": VIEW, "z": 0, "channels": channels})
    before = settled_counters(page)
    bad = "#uicontrol float gain slider(min=0, max=2, default=1)\nvec3 composite() {\n" \
          "  return vec3(raw(0) * gain * undefinedThing);\n}"
    err = call(page, "(v, s) => v.setShader(s)", bad)
    assert err["name"] == "ShaderError" and err["line"] == 3, err
    assert "line 3" in err["message"] and "undefinedThing" in err["message"]
    # An error in a colormap is in its own line numbers too.
    err = call(page, "(v, n, s) => v.defineColormap(n, s)", "oops", "// two\n// comment lines\nvec3 colormap_oops(float t, vec3 color) {\n  return t;\n}")
    assert err["name"] == "ShaderError" and err["line"] == 4, err
    assert "oops" not in page.evaluate("() => window.chromatileViewer.colormaps")
    # Rules: loops the compiler cannot bound, preprocessor lines, oversized sources.
    loop = "vec3 composite() {\n  float s = 0.0;\n  while (s < 1.0) s += raw(0);\n  return vec3(s);\n}"
    err = call(page, "(v, s) => v.setShader(s)", loop)
    assert err["name"] == "ShaderError" and err["line"] == 3, err
    unbounded = "vec3 composite() {\n  float s = 0.0;\n  for (int i = 0; i < int(raw(0)); i++) s += 1.0;\n  return vec3(s);\n}"
    err = call(page, "(v, s) => v.setShader(s)", unbounded)
    assert err["name"] == "ShaderError" and err["line"] == 3, err
    moved = "vec3 composite() {\n  float s = 0.0;\n  for (int i = 0; i < 4; i++) {\n    i = 0;\n  }\n  return vec3(s);\n}"
    err = call(page, "(v, s) => v.setShader(s)", moved)
    assert err["name"] == "ShaderError" and err["line"] == 4, err
    err = call(page, "(v, s) => v.setShader(s)", "#define X 1\nvec3 composite() { return vec3(0.0); }")
    assert err["name"] == "ShaderError" and err["line"] == 1, err
    err = call(page, "(v, s) => v.setShader(s)", "vec3 composite() { return vec3(0.0); }\n" + "//" * 9000)
    assert err["name"] == "ShaderError" and "at most" in err["message"], err
    # A bounded loop over the visible channels is fine.
    ok = "vec3 composite() {\n  vec3 acc = vec3(0.0);\n  for (int i = 0; i < channelCount(); i++) acc += windowed(i) * channelColor(i);\n  return acc;\n}"
    assert call(page, "(v, s) => v.setShader(s)", ok) is None
    assert_close(render(page), expected(server, "ramp16", 0, channels, "additive", VIEW, canvas_size(page)))
    # A failing shader leaves the last good program drawing.
    assert call(page, "(v, s) => v.setShader(s)", bad)["line"] == 3
    assert page.evaluate("() => window.chromatileViewer.getState().shader.source") == ok
    assert call(page, "(v) => v.setShader(null)") is None
    assert (render(page) == shown).all(), "the picture changed"
    assert counters(page) == before
    assert not page.errors


def test_editor_compiles_after_typing_marks_errors_and_resets(page: Page, server: Server) -> None:
    open_viewer(page, server, "ramp16")
    channels = [channel("#ff0000", [5000, 50000]), channel("#00ff80", [1000, 30000])]
    builtin = render(page, {"view": VIEW, "z": 0, "channels": channels})
    before = settled_counters(page)
    page.locator("button.ct-shader-toggle").click()
    editor = page.locator("textarea.ct-shader-source")
    assert "vec3 composite()" in editor.input_value(), "the built-in compositing is the starting point"
    # A typo: the error is marked at its line, the picture stays.
    editor.fill(RATIO.replace("float r = raw(0)", "float r = raw(0) +* 2.0"))
    page.wait_for_selector(".ct-shader-error:not([hidden])")
    assert page.locator(".ct-shader-lines .ct-error-line").text_content().strip() == "6"
    assert page.evaluate("() => window.chromatileViewer.getState().shader") is None
    assert (render(page) == builtin).all()
    # Fixed: it compiles a moment after typing stops, its controls appear in the panel at once.
    editor.fill(RATIO)
    page.wait_for_selector(".ct-shader-controls input[data-control=top]")
    assert page.locator(".ct-shader-error").is_hidden()
    assert_close(render(page), ratio_reference(server, channels, 2, "#ffcc00", True, canvas_size(page)))
    page.locator(".ct-shader-controls input[data-control=second]").uncheck()
    page.locator(".ct-shader-controls input[data-control=top]").fill("0.5")  # the slider's minimum
    page.wait_for_function("window.chromatileViewer.getState().shader.controls.top === 0.5")
    assert_close(render(page), ratio_reference(server, channels, 0.5, "#ffcc00", False, canvas_size(page)))
    page.locator("button.ct-shader-reset").click()
    assert page.evaluate("() => window.chromatileViewer.getState().shader") is None
    assert page.locator(".ct-shader-controls").is_hidden()
    assert (render(page) == builtin).all()
    assert counters(page) == before
    assert not page.errors


def shaded_state(page: Page) -> dict[str, Any]:
    """A state using a runtime colormap and blend and a compositing shader with a moved control."""
    page.evaluate("""async ([cm, bl, sh]) => {
        const v = window.chromatileViewer;
        await v.defineColormap('dusk', cm);
        await v.defineBlend('screen', bl);
        await v.setShader(sh);
        v.setShaderControl('top', 1.25);
        v.setShaderControl('tint', '#80ff40');
    }""", [COLORMAP, SCREEN, RATIO])
    channels = [channel("#ff0000", [5000, 50000], colormap="dusk"), channel("#00ff80", [1000, 30000])]
    render(page, {"view": VIEW, "z": 0, "blend": "screen", "channels": channels})
    state = page.evaluate("() => window.chromatileViewer.getState()")
    assert state["shader"] == {"source": RATIO, "controls": {"top": 1.25, "tint": "#80ff40", "second": True}}
    assert state["definitions"] == {"colormaps": {"dusk": COLORMAP}, "blends": {"screen": SCREEN}}
    return state


def test_shader_state_round_trips_through_the_url(page: Page, server: Server) -> None:
    open_viewer(page, server, "ramp16")
    state = shaded_state(page)
    shown = render(page)
    page.wait_for_function("location.hash.includes('sh=') && location.hash.includes('blend=screen')")
    assert len(page.url) < len(RATIO) + len(COLORMAP) + len(SCREEN) + 400, "the shader part is compressed"
    again = page.context.new_page()
    again.goto(page.url)
    again.wait_for_function("window.chromatileViewer !== undefined")
    restored = render(again)
    assert again.evaluate("() => window.chromatileViewer.getState()") == state
    assert (restored == shown).all(), "the same picture"
    assert_close(restored, ratio_reference(server, state["channels"], 1.25, "#80ff40", True, canvas_size(page)))
    again.close()


def test_shader_round_trips_through_save_as_default(page: Page, server: Server) -> None:
    open_viewer(page, server, "saved")
    page.evaluate("""async ([cm, sh]) => {
        const v = window.chromatileViewer;
        await v.defineColormap('dusk', cm);
        v.setChannel(0, {colormap: 'dusk'});
        await v.setShader(sh);
        v.setShaderControl('top', 3);
    }""", [COLORMAP, RATIO])
    state = page.evaluate("() => window.chromatileViewer.getState()")
    shown = render(page)
    page.on("dialog", lambda d: d.accept(ADMIN_TOKEN))
    page.locator("button.ct-save-default").click()
    page.wait_for_function("document.querySelector('.ct-status').textContent.includes('Saved')")
    fresh = page.context.new_page()
    try:
        fresh.goto(f"{server.url}/view/saved")
        fresh.wait_for_function("window.chromatileViewer !== undefined")
        got = render(fresh)
        st = fresh.evaluate("() => window.chromatileViewer.getState()")
        assert st["shader"] == state["shader"] and st["definitions"] == state["definitions"]
        assert st["channels"][0]["colormap"] == "dusk"
        assert (got == shown).all()
    finally:
        fresh.close()
        # Back to the built-in for the other tests of this store.
        page.evaluate("async () => { const v = window.chromatileViewer; await v.setShader(null); v.setChannel(0, {colormap: 'color'}); }")
        page.evaluate("() => { document.querySelector('.ct-status').textContent = ''; }")
        page.locator("button.ct-save-default").click()
        page.wait_for_function("document.querySelector('.ct-status').textContent.includes('Saved')")


EMBED = """<!doctype html>
<html><head><link rel="stylesheet" href="{server}/viewer/viewer.css"></head>
<body style="margin:0">
<div id="box" style="position:absolute;left:0;top:0;width:256px;height:256px"></div>
<script type="module">
  import {{ createViewer }} from '{server}/viewer/dist/chromatile.js';
  window.chromatileViewer = createViewer(document.getElementById('box'),
    {{ source: '{server}/data/ramp16.ome.zarr', ui: false, initialState: {state}, allowUserShaders: {allow} }});
</script></body></html>
"""


@pytest.mark.parametrize("allow", [False, True])
def test_embed_runs_a_shader_from_its_state_only_when_allowed(page: Page, server: Server, static_host: Any,
                                                              allow: bool) -> None:
    import json

    channels = [channel("#ff0000", [5000, 50000], colormap="dusk"), channel("#00ff80", [1000, 30000])]
    state = {"view": VIEW, "z": 0, "channels": channels, "shader": {"source": RATIO, "controls": {"top": 1}},
             "definitions": {"colormaps": {"dusk": COLORMAP}}}
    (static_host.root / f"shader-embed-{allow}.html").write_text(
        EMBED.format(server=server.url, state=json.dumps(state), allow=json.dumps(allow)))
    page.goto(f"{static_host.url}/shader-embed-{allow}.html")
    page.wait_for_function("window.chromatileViewer !== undefined")
    got = render(page)
    st = page.evaluate("() => window.chromatileViewer.getState()")
    offered = page.evaluate("() => window.chromatileViewer.offeredShader")
    if allow:
        assert st["shader"] == {"source": RATIO, "controls": {"top": 1, "tint": "#ffcc00", "second": True}}
        assert offered is None
        assert_close(got, ratio_reference(server, channels, 1, "#ffcc00", True, canvas_size(page)))
    else:
        assert st["shader"] is None and "definitions" not in st
        assert offered["shader"]["source"] == RATIO
        assert "allowUserShaders" in (page.locator(".ct-message-shader").text_content() or "")
        plain = [dict(channels[0], colormap="color"), channels[1]]
        assert_close(got, expected(server, "ramp16", 0, plain, "additive", VIEW, canvas_size(page)))
    assert not page.errors


def test_no_recompile_when_toggling_channels_and_a_slow_shader_is_named(page: Page, server: Server) -> None:
    page.add_init_script(COUNT_COMPILES)
    open_viewer(page, server, "ramp16")
    channels = [channel("#ff0000", [5000, 50000], colormap="dusk"), channel("#00ff80", [1000, 30000])]
    render(page, {"view": VIEW, "z": 0})
    assert call(page, "(v, n, s) => v.defineColormap(n, s)", "dusk", COLORMAP) is None
    assert call(page, "(v, s) => v.setShader(s)", RATIO) is None
    render(page, {"channels": channels})
    compiles = page.evaluate("() => window.__compiles")
    for visible in (False, True, False, True):
        channels[1]["visible"] = visible
        render(page, {"channels": channels})
    assert_close(render(page), ratio_reference(server, channels, 2, "#ffcc00", True, canvas_size(page)))
    assert page.evaluate("() => window.__compiles") == compiles, "toggling channels recompiled"
    assert page.locator(".ct-message-shader-slow").count() == 0
    # A shader far slower than the built-in one is named over the image, not left to freeze silently.
    # 8,000 sines per pixel: about 470 ms per tile here against a threshold near 50 ms (8x the built-in's
    # 2-3 ms + 30 ms); 1,000 sines took 60-80 ms, too close to it, and a faster CI machine fell under it.
    slow = "vec3 composite() {\n  float s = 0.0;\n  for (int i = 0; i < 8000; i++) s += sin(raw(0) * float(i));\n" \
           "  return vec3(s * 1e-4);\n}"
    assert call(page, "(v, s) => v.setShader(s)", slow) is None
    page.wait_for_selector(".ct-message-shader-slow", timeout=120_000)
    assert "custom shader" in (page.locator(".ct-message-shader-slow").text_content() or "")
    assert call(page, "(v) => v.setShader(null)") is None
    assert page.locator(".ct-message-shader-slow").count() == 0
    assert not page.errors
