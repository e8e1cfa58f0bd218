"""PUT /api/images/<id>/defaults: admin-only, validated, written atomically into .zattrs."""

from __future__ import annotations

import json

import pytest
from conftest import ADMIN, LiveServer

URL = "/api/images/ramp/defaults"
AUTH = {"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"}


def put(live: LiveServer, body: object, headers: dict[str, str] | None = None):
    return live.get(URL, method="PUT", headers=AUTH if headers is None else headers,
                    body=json.dumps(body).encode())


def test_defaults_are_written_into_zattrs_and_answered(live: LiveServer) -> None:
    zattrs = live.data_dir / "ramp.ome.zarr/.zattrs"
    before = json.loads(zattrs.read_text())
    body = {"channels": [
        {"color": "#ff8000", "window": [100, 5000], "visible": False, "gamma": 0.5, "invert": True,
         "colormap": "viridis"},
        {"window": [1, 1234.5]},
    ]}
    r = put(live, body)
    assert r.status == 200
    after = json.loads(zattrs.read_text())
    ch0, ch1 = after["omero"]["channels"]
    assert (ch0["color"], ch0["active"], ch0["inverted"]) == ("FF8000", False, True)
    assert ch0["window"] == {"start": 100, "end": 5000, "min": 0, "max": 65535}
    assert ch1["window"] == {**before["omero"]["channels"][1]["window"], "start": 1, "end": 1234.5}
    assert (ch1["color"], ch1["active"]) == ("00FF00", True)
    assert after["chromatile"]["rendering"] == [{"gamma": 0.5, "colormap": "viridis"},
                                                {"gamma": 1.0, "colormap": "color"}]
    # everything else is untouched
    assert after["multiscales"] == before["multiscales"]
    assert after["chromatile"]["channels"] == before["chromatile"]["channels"]
    meta = r.json()
    assert (meta["channels"][0]["color"], meta["channels"][0]["gamma"]) == ("FF8000", 0.5)
    assert live.get("/api/images/ramp").json()["channels"][0]["colormap"] == "viridis"
    assert json.loads(live.get("/data/ramp.ome.zarr/.zattrs").body) == after
    assert not [p.name for p in zattrs.parent.iterdir() if p.name.startswith(".zattrs.")]


def test_credentials_are_checked(live: LiveServer) -> None:
    body = {"channels": [{}, {}]}
    assert put(live, body, {"Content-Type": "application/json"}).status == 401
    assert put(live, body, {"Authorization": "Bearer nope"}).status == 403
    assert put(live, body).status == 200


@pytest.mark.parametrize(("body", "message"), [
    ({"channels": [{}]}, "'channels' must be a list of 2 entries (one per channel)"),
    ({"channels": [{"color": "red"}, {}]}, "channels[0].color must be '#rrggbb'"),
    ({"channels": [{}, {"window": [10, 5]}]}, "channels[1].window must be [lo, hi] with 0 <= lo < hi <= 65535"),
    ({"channels": [{}, {"window": [0, 70000]}]}, "channels[1].window must be [lo, hi] with 0 <= lo < hi <= 65535"),
    ({"channels": [{"gamma": 0}, {}]}, "channels[0].gamma must be a number in [0.01, 100]"),
    ({"channels": [{"visible": "yes"}, {}]}, "channels[0].visible must be true or false"),
    ({"channels": [{"colormap": "../x"}, {}]}, "channels[0].colormap must be a colormap name like 'color' or 'viridis'"),
    ({"channels": [{"opacity": 1}, {}]}, "channels[0] has unknown field(s) opacity; allowed: color, window, visible, gamma, invert, colormap"),
    ({"channels": [{}, {}], "extra": 1}, 'the body must be a JSON object {"channels": [...]}'),
    ([1, 2], 'the body must be a JSON object {"channels": [...]}'),
])
def test_bad_bodies_are_400_and_change_nothing(live: LiveServer, body: object, message: str) -> None:
    zattrs = live.data_dir / "ramp.ome.zarr/.zattrs"
    before = zattrs.read_bytes()
    r = put(live, body)
    assert (r.status, r.json()) == (400, {"error": message})
    assert zattrs.read_bytes() == before


def test_non_json_body_and_unknown_or_withdrawn_images(live: LiveServer) -> None:
    r = live.get(URL, method="PUT", headers=AUTH, body=b"{not json")
    assert (r.status, r.json()) == (400, {"error": "the body must be JSON"})
    r = live.get("/api/images/nope/defaults", method="PUT", headers=AUTH, body=b'{"channels": []}')
    assert r.status == 404
    live.app.extensions["chromatile"].data.withdraw("ramp")
    assert put(live, {"channels": [{}, {}]}).status == 410
