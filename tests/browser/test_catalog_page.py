"""The catalog page: every field of every image, a filter, sorting, pages, and 2,000 images rendered fast."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
from conftest import Server, StaticHost
from playwright.sync_api import Page

pytestmark = pytest.mark.browser

PAGE = """<!doctype html><html><head><link rel="stylesheet" href="{server}/viewer/viewer.css"></head>
<body class="ct-page"><div id="app"></div>
<script type="module">
  import {{ showCatalog }} from '{server}/viewer/dist/chromatile.js';
  window.chromatileCatalog = showCatalog(document.getElementById('app'), {{ url: 'many.json' }});
</script></body></html>"""


def decimal_size(n: float) -> str:
    """What the page writes for n bytes: decimal units, 3 significant figures at most."""
    units = ["B", "kB", "MB", "GB", "TB"]
    i = 0
    while n >= 1000 and i < len(units) - 1:
        n /= 1000
        i += 1
    return f"{round(n) if n >= 100 or i == 0 else f'{n:.1f}'} {units[i]}"


def cards(page: Page) -> list[dict[str, Any]]:
    return page.evaluate("""() => [...document.querySelectorAll('.ct-catalog-item')].map((li) => ({
        id: li.dataset.id, name: li.querySelector('.ct-catalog-name').textContent,
        href: li.querySelector('a').href, dims: li.querySelector('.ct-catalog-dims').textContent,
        channels: li.querySelector('.ct-catalog-channels').textContent,
        disk: li.querySelector('.ct-catalog-disk').textContent,
        private: Boolean(li.querySelector('.ct-badge')), thumb: li.querySelector('img').getAttribute('src')}))""")


def sized_listing(server: Server) -> None:
    """Ask /api/images until every entry has its size: a listing walks stores for 0.5 s at most and
    leaves the rest `null` (shown as no size) until a later listing, which a loaded machine can need."""
    for _ in range(100):
        with urllib.request.urlopen(f"{server.url}/api/images", timeout=30) as r:
            if all(e["size_bytes"] is not None for e in json.load(r)["images"]):
                return
    raise AssertionError("some image never got its size_bytes in 100 listings")


def test_the_servers_catalog_shows_every_field(page: Page, server: Server) -> None:
    sized_listing(server)
    page.set_viewport_size({"width": 1000, "height": 700})
    page.goto(f"{server.url}/")
    page.wait_for_selector(".ct-catalog[data-ready]")
    listing = json.loads(page.evaluate("async () => JSON.stringify(await (await fetch('/api/images')).json())"))
    by_id = {c["id"]: c for c in cards(page)}
    assert set(by_id) == {e["id"] for e in listing["images"]}
    timed = by_id["timed8"]
    assert timed["dims"] == "64 × 64 · Z 2 · T 4 · uint8"
    assert timed["channels"] == "2 channels: Channel 0, Channel 1"
    entry = next(e for e in listing["images"] if e["id"] == "timed8")
    assert entry["size_bytes"] > 0 and entry["ingested"].endswith("Z")
    assert timed["disk"] == f"{decimal_size(entry['size_bytes'])} · ingested {entry['ingested'][:10]}"
    assert timed["href"] == f"{server.url}/view/timed8"
    assert timed["thumb"] == f"{server.url}/api/images/timed8/thumbnail.png"
    assert not timed["private"]
    # the thumbnails load
    page.wait_for_function("() => [...document.querySelectorAll('.ct-catalog-item img')].every((i) => i.complete && i.naturalWidth > 0)")
    # filter by a name, then open the image from its card
    page.locator(".ct-filter").fill("ramp")
    assert [c["id"] for c in cards(page)] == ["ramp16"]
    page.locator(".ct-catalog-item").click(position={"x": 200, "y": 60})  # anywhere on the card
    page.wait_for_url(f"{server.url}/view/ramp16")


def many(n: int) -> list[dict[str, Any]]:
    """n catalog entries with names out of order, dates spread over years, some private."""
    out = []
    for i in range(n):
        k = (i * 7919) % n
        out.append({"id": f"img{k:04d}", "name": f"Sample {k}", "shape": {"t": 1, "c": 3 + k % 5, "z": 1 + k % 40,
                    "y": 1000 + k, "x": 2000 + k}, "dtype": "uint16", "levels": 4,
                    "channels": [f"CD{k % 50}", "DAPI", "Ki67"][: 3] + [f"M{j}" for j in range(k % 5)],
                    "private": k % 10 == 0, "size_bytes": 1_000_000 * (k + 1),
                    "ingested": f"{2020 + k % 5}-{1 + k % 12:02d}-{1 + k % 28:02d}T10:00:00Z",
                    "viewer_url": f"view/img{k:04d}/", "thumbnail_url": f"data/img{k:04d}.ome.zarr/thumbnail.png"})
    return out


def test_two_thousand_images_page_filter_and_sort(page: Page, server: Server, static_host: StaticHost) -> None:
    entries = many(2000)
    (static_host.root / "many.json").write_text(json.dumps({"images": entries}))
    (static_host.root / "catalog.html").write_text(PAGE.format(server=server.url))
    page.set_viewport_size({"width": 1000, "height": 700})
    page.goto(f"{static_host.url}/catalog.html")
    page.wait_for_selector(".ct-catalog[data-ready]")
    ms, fetched = page.evaluate("() => [window.chromatileCatalog.firstRenderMs, window.chromatileCatalog.fetchMs]")
    print(f"\ncatalog first render, 2000 images: {ms:.0f} ms from the call, of which {fetched:.0f} ms fetching the list")
    assert page.locator(".ct-catalog-item").count() == 60, "one page of cards, not 2,000"
    assert page.locator(".ct-catalog-count").text_content() == "2000 images"
    assert page.locator(".ct-page-text").text_content() == "page 1 of 34"
    shown = cards(page)
    assert [c["name"] for c in shown[:3]] == ["Sample 0", "Sample 1", "Sample 2"], "sorted by name, numbers in order"
    assert shown[0]["href"] == f"{static_host.url}/view/img0000/", "URLs relative to the list"
    assert shown[0]["private"] and not shown[1]["private"]
    assert shown[0]["disk"] == "1.0 MB · ingested 2020-01-01"
    page.locator(".ct-page-next").click()
    assert cards(page)[0]["name"] == "Sample 60"
    # newest first: the 2024-12 entries lead
    page.locator(".ct-catalog-sort").select_option("newest")
    dates = page.evaluate("() => [...document.querySelectorAll('.ct-catalog-disk')].map((e) => e.textContent.slice(-10))")
    assert dates == sorted(dates, reverse=True) and dates[0].startswith("2024-12")
    assert page.locator(".ct-page-text").text_content() == "page 1 of 34", "a new order starts at page 1"
    # the filter reaches every image, not only the page shown, and matches channel names too
    page.locator(".ct-filter").fill("CD7 ")
    got = {c["id"] for c in cards(page)}
    expected = {e["id"] for e in entries if "cd7" in " ".join(e["channels"]).lower()}
    assert got == expected and len(got) < 60
    assert page.locator(".ct-catalog-count").text_content() == f"{len(expected)} of 2000 images"
    page.locator(".ct-filter").fill("no such sample")
    assert page.locator(".ct-empty").text_content() == "No image matches the filter."
    # filter and sort live in the address, so a reload or a shared link keeps them
    page.locator(".ct-filter").fill("Sample 1999")
    page.reload()
    page.wait_for_selector(".ct-catalog[data-ready]")
    assert [c["name"] for c in cards(page)] == ["Sample 1999"]
    assert page.locator(".ct-catalog-sort").input_value() == "newest"
