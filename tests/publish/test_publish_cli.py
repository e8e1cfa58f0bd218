"""`chromatile publish` on disk: what the site holds, incremental re-publish, refusals, failure safety."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from publish_helpers import add_image, expected_files, run_publish, site_files, stack8

from chromatile.errors import UserError
from chromatile.publish import publish, tree
from chromatile.store import DataDir

TIMING = re.compile(r"published (\d+) image\(s\) to .*: (\d+) added, (\d+) updated, (\d+) removed, "
                    r"(\d+) unchanged; (\d+) file\(s\) written \([\d.]+ MB\), (\d+) removed, in [\d.]+ s")


def summary(out: str) -> tuple[int, ...]:
    match = TIMING.search(out)
    assert match, out
    return tuple(int(g) for g in match.groups())


def test_publishes_only_the_public_image(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    run = run_publish(data_dir, out)
    assert run.code == 0, run.err
    assert summary(run.out)[:5] == (1, 1, 0, 0, 0)
    assert "not published (withdrawn): gone" in run.err
    assert "not published (private; --include-private publishes them to anyone): secret" in run.err
    assert site_files(out) == expected_files(data_dir, ["public"])
    assert str(data_dir) not in (out / ".chromatile-publish.json").read_text()  # served with the site
    catalog = json.loads((out / "catalog.json").read_text())
    assert [e["id"] for e in catalog["images"]] == ["public"]
    entry = catalog["images"][0]
    assert (entry["viewer_url"], entry["store_url"]) == ("view/public/", "data/public.ome.zarr")
    assert (out / entry["thumbnail_url"]).is_file()
    assert entry["channels"] == ["Channel 0", "Channel 1"] and entry["shape"]["x"] == 130
    store = data_dir / "public.ome.zarr"
    assert entry["size_bytes"] == sum(p.stat().st_size for p in store.rglob("*") if p.is_file())
    assert entry["ingested"].endswith("Z")
    # stores are byte-identical copies (not links) unless --link
    src, dst = data_dir / "public.ome.zarr/0/0/0/0/0/0", out / "data/public.ome.zarr/0/0/0/0/0/0"
    assert dst.read_bytes() == src.read_bytes() and dst.stat().st_ino != src.stat().st_ino
    page = (out / "view/public/index.html").read_text()
    assert '"source": "../../data/public.ome.zarr"' in page and "__CHROMATILE_BASE__" not in page
    assert 'href="../../viewer/viewer.css"' in page
    assert "gone" not in (out / "catalog.json").read_text() and "secret" not in (out / "catalog.json").read_text()


def test_republish_updates_only_what_changed(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert run_publish(data_dir, out).code == 0

    again = run_publish(data_dir, out)
    assert again.code == 0
    assert summary(again.out) == (1, 0, 0, 0, 1, 0, 0)  # nothing written, nothing removed

    # a new image, and the published one withdrawn: the site follows, leaving no stale file
    add_image(data_dir, "late", stack8(7))
    DataDir(data_dir).withdraw("public")
    third = run_publish(data_dir, out)
    assert third.code == 0, third.err
    n, added, updated, removed, unchanged, _written, files_removed = summary(third.out)
    assert (n, added, updated, removed, unchanged) == (1, 1, 0, 1, 0)
    assert files_removed > 10
    assert "added: late" in third.out and "removed: public" in third.out
    assert site_files(out) == expected_files(data_dir, ["late"])
    assert [e["id"] for e in json.loads((out / "catalog.json").read_text())["images"]] == ["late"]

    # changed metadata (saved defaults rewrite .zattrs) re-syncs that store alone
    DataDir(data_dir).update_attrs("late", lambda attrs: {**attrs, "note": "changed"})
    fourth = run_publish(data_dir, out)
    # two files: the store's .zattrs and catalog.json (the entry's size_bytes grew with it)
    assert summary(fourth.out)[:6] == (1, 0, 1, 0, 0, 2)
    assert json.loads((out / "data/late.ome.zarr/.zattrs").read_text())["note"] == "changed"


def test_id_selects_and_refuses(data_dir: Path, tmp_path: Path) -> None:
    add_image(data_dir, "second", stack8(3))
    out = tmp_path / "site"
    assert run_publish(data_dir, out, "--id", "second", "--id", "public").code == 0
    assert site_files(out) == expected_files(data_dir, ["public", "second"])
    narrowed = run_publish(data_dir, out, "--id", "second")  # the site holds exactly the ids named
    assert narrowed.code == 0 and "removed: public" in narrowed.out
    assert site_files(out) == expected_files(data_dir, ["second"])

    for ids, message in ((["gone"], "image 'gone' is withdrawn: withdrawn images are never published"),
                         (["secret"], "image 'secret' is private and a static site cannot protect it"),
                         (["nope"], "no image 'nope' in"),
                         (["../x"], "image id '../x' is malformed")):
        refused = run_publish(data_dir, out, "--id", *ids)
        assert refused.code == 2 and message in refused.err, refused.err
        assert refused.err.startswith("chromatile: error: ") and "Traceback" not in refused.err
    assert site_files(out) == expected_files(data_dir, ["second"])  # a refusal changes nothing


def test_include_private_warns_loudly(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    run = run_publish(data_dir, out, "--include-private")
    assert run.code == 0
    assert "WARNING: published PRIVATE image(s) secret." in run.err
    assert "A static host cannot protect them" in run.err
    assert site_files(out) == expected_files(data_dir, ["public", "secret"])
    # on a static site it is readable by anyone: the catalog must not badge it "needs a token"
    entries = {e["id"]: e for e in json.loads((out / "catalog.json").read_text())["images"]}
    assert entries["secret"]["private"] is False
    # withdrawn stays out even then
    assert "gone" not in json.dumps(json.loads((out / "catalog.json").read_text()))


def test_link_hard_links_store_files(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert run_publish(data_dir, out, "--link").code == 0
    src, dst = data_dir / "public.ome.zarr/0/0/0/0/0/0", out / "data/public.ome.zarr/0/0/0/0/0/0"
    assert dst.stat().st_ino == src.stat().st_ino
    # switching back to copies replaces the links (so a later edit of OUT_DIR cannot touch DATA_DIR)
    run = run_publish(data_dir, out)
    assert summary(run.out)[2] == 1
    assert dst.stat().st_ino != src.stat().st_ino and dst.read_bytes() == src.read_bytes()


def test_base_url_prefixes_every_page_url(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    assert run_publish(data_dir, out, "--base-url", "/lab/images/").code == 0
    page = (out / "view/public/index.html").read_text()
    assert '"source": "/lab/images/data/public.ome.zarr"' in page
    assert "import { startPage } from '/lab/images/viewer/dist/chromatile.js'" in page
    assert '"catalog": "/lab/images/catalog.json"' in (out / "index.html").read_text()
    bad = run_publish(data_dir, tmp_path / "other", "--base-url", "lab?x=1")
    assert bad.code == 2 and "--base-url 'lab?x=1' is not a URL path" in bad.err
    assert not (tmp_path / "other").exists()


def test_bad_input_is_refused_with_a_clear_error(data_dir: Path, tmp_path: Path) -> None:
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    run = run_publish(data_dir, foreign)
    assert run.code == 2 and "is not empty and was not written by chromatile publish" in run.err
    assert (foreign / "notes.txt").read_text() == "keep me"

    run = run_publish(tmp_path / "missing", tmp_path / "site")
    assert run.code == 2 and "does not exist or is not a directory" in run.err
    run = run_publish(data_dir, data_dir / "site")
    assert run.code == 2 and "overlap" in run.err
    (tmp_path / "file").write_text("x")
    run = run_publish(data_dir, tmp_path / "file")
    assert run.code == 2 and "is not a directory" in run.err


def test_failed_publish_leaves_no_page_pointing_at_missing_files(
        data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "site"
    publish(data_dir, out)
    before = site_files(out)
    add_image(data_dir, "late", stack8(7))
    DataDir(data_dir).update_attrs("public", lambda attrs: {**attrs, "note": "changed"})

    real_place = tree.place_file
    calls = {"n": 0}

    def failing_place(src: str, dst: str, link: bool) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device")
        real_place(src, dst, link)

    monkeypatch.setattr(tree, "place_file", failing_place)
    with pytest.raises(OSError):
        publish(data_dir, out)
    # the half-copied new store is not visible under its name, and nothing links to it
    assert not (out / "data/late.ome.zarr").exists() and not (out / "view/late").exists()
    assert site_files(out) - before <= {f for f in site_files(out) if "/.publish-tmp-" in f
                                        or f.startswith("data/.publish-tmp-")}
    for entry in json.loads((out / "catalog.json").read_text())["images"]:
        assert (out / entry["viewer_url"] / "index.html").is_file()
        assert (out / entry["store_url"] / ".zattrs").is_file()

    monkeypatch.setattr(tree, "place_file", real_place)
    report = publish(data_dir, out)
    assert report.added == ["late"] and report.updated == ["public"]
    assert site_files(out) == expected_files(data_dir, ["late", "public"])


def test_publish_in_process_refuses_before_touching_out_dir(data_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="withdrawn"):
        publish(data_dir, tmp_path / "site", ids=["public", "gone"])
    assert not (tmp_path / "site").exists()


def test_purge_hook_runs_for_removed_images(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    log = tmp_path / "purged"
    hook = f"sh -c 'echo {{id}} >> {log}'"
    assert run_publish(data_dir, out, env={"CHROMATILE_PURGE_COMMAND": hook}).code == 0
    assert not log.exists()  # nothing removed or changed: nothing to purge
    DataDir(data_dir).withdraw("public")
    run = run_publish(data_dir, out, env={"CHROMATILE_PURGE_COMMAND": hook})
    assert run.code == 0 and "purge hook for public: ok" in run.out
    assert log.read_text() == "public\n"
    failing = run_publish(data_dir, out, "--include-private", env={"CHROMATILE_PURGE_COMMAND": "false"})
    assert failing.code == 0  # added only: no purge
    os.remove(data_dir / ".chromatile/private/secret")
    DataDir(data_dir).withdraw("secret")
    failing = run_publish(data_dir, out, env={"CHROMATILE_PURGE_COMMAND": "false"})
    assert failing.code == 1 and "purge hook for secret: failed: exit 1" in failing.err


def test_missing_viewer_build_is_a_clear_error(data_dir: Path, tmp_path: Path) -> None:
    webclient = tmp_path / "static"
    webclient.mkdir()
    (webclient / "index.html").write_text("<html><head></head>__CHROMATILE_BASE__</html>")
    with pytest.raises(UserError, match=r"viewer file .*chromatile\.js' is missing: build the viewer first"):
        publish(data_dir, tmp_path / "site", webclient_dir=webclient)
    assert not (tmp_path / "site").exists()


def test_link_across_file_systems_is_refused_up_front(data_dir: Path) -> None:
    shm = Path("/dev/shm")
    if not shm.is_dir() or shm.stat().st_dev == data_dir.stat().st_dev:
        pytest.skip("needs /dev/shm on another file system than the test's temporary folder")
    out = shm / f"chromatile-publish-test-{os.getpid()}"
    try:
        run = run_publish(data_dir, out, "--link")
        assert run.code == 2 and "--link needs OUT_DIR on the same file system as DATA_DIR" in run.err
        assert not out.exists()
    finally:
        if out.exists():
            shutil.rmtree(out)
