"""The viewer page's head start: the store's metadata and the decode workers (with the store's codec)
start from index.html while the bundle is still loading, and the viewer adopts them rather than asking
again. bench/viewer measures what this gains; these tests check that it happens and stays correct."""

from __future__ import annotations

from conftest import Server, open_viewer
from playwright.sync_api import Page

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

