"""Embedding leaves the host page alone: viewer.css styles only what is inside the viewer's root."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Server, StaticHost
from playwright.sync_api import Page

pytestmark = pytest.mark.browser

# A white host page with its own form controls, text and a [hidden] element that it shows itself.
HOST = """<!doctype html>
<html><head>
<style>
  body {{ background: #fff; color: #123; font: 17px/1.6 Georgia, serif; margin: 12px; }}
  .reveal[hidden] {{ display: block; }}
</style>
{css}
</head>
<body>
<h1>Host page</h1>
<p id="text">Some text of the host.</p>
<button id="btn">Host button</button>
<select id="sel"><option>a</option></select>
<input id="inp" value="host">
<div id="hid" class="reveal" hidden>shown by the host's own rule</div>
<div id="box" style="width:320px;height:220px"></div>
<script type="module">
  window.snapshot = () => {{
    const props = ['background-color', 'color', 'font-family', 'font-size', 'margin-top', 'border-top-color',
                   'padding-left', 'display', 'cursor', 'border-radius'];
    const out = {{}};
    for (const sel of ['html', 'body', '#text', '#btn', '#sel', '#inp', '#hid']) {{
      const cs = getComputedStyle(document.querySelector(sel));
      out[sel] = Object.fromEntries(props.map((p) => [p, cs.getPropertyValue(p)]));
    }}
    return out;
  }};
  window.before = window.snapshot();
  {script}
</script>
</body></html>
"""

VIEWER = """
  const {{ createViewer }} = await import('{server}/viewer/dist/chromatile.js');
  const v = createViewer(document.getElementById('box'), {{ source: '{server}/data/ramp16.ome.zarr' }});
  window.chromatileViewer = v;
  await v.ready;
  await v.whenIdle();
  window.embedded = true;
"""


def styles(page: Page, static_host: StaticHost, server: Server, name: str, css: bool, viewer: bool) -> Any:
    link = f'<link rel="stylesheet" href="{server.url}/viewer/viewer.css">' if css else ""
    script = VIEWER.format(server=server.url) if viewer else "window.embedded = true;"
    (static_host.root / name).write_text(HOST.format(css=link, script=script))
    page.goto(f"{static_host.url}/{name}")
    page.wait_for_function("window.embedded === true", timeout=30000)
    return page.evaluate("() => window.before")


def test_embedding_with_the_ui_leaves_the_host_page_styles_unchanged(page: Page, server: Server,
                                                                    static_host: StaticHost) -> None:
    page.set_viewport_size({"width": 800, "height": 600})
    alone = styles(page, static_host, server, "host-alone.html", css=False, viewer=False)
    assert alone["body"]["background-color"] == "rgb(255, 255, 255)"
    embedded = styles(page, static_host, server, "host-embed.html", css=True, viewer=True)
    after = page.evaluate("() => window.snapshot()")
    assert embedded == alone, "loading viewer.css changed the host page"
    assert after == alone, "creating the viewer changed the host page"
    # The viewer itself is still styled: its panel is dark and its buttons are the viewer's.
    panel = page.evaluate("() => getComputedStyle(document.querySelector('.ct-sidebar')).backgroundColor")
    assert panel == "rgb(27, 27, 31)"
    fit = page.evaluate("() => getComputedStyle(document.querySelector('.ct-fit')).backgroundColor")
    assert fit == "rgb(51, 51, 51)"
    assert page.evaluate("() => document.querySelector('.ct-viewer').getBoundingClientRect().width") == 320
    assert not page.errors  # type: ignore[attr-defined]
