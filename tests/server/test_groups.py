"""Channel groups in "Save as default": validated, stored as chromatile.groups, answered back."""

from __future__ import annotations

import json

import pytest
from conftest import ADMIN, LiveServer
from test_defaults import put
from test_ngff05_store import live05, seed05  # noqa: F401 - fixtures of the 0.5 stores

GROUPS = [
    {"name": "nuclei", "channels": [{"index": 0, "color": "#0000FF", "window": [10, 900], "gamma": 1.5,
                                     "invert": False, "colormap": "color"}]},
    {"name": "everything", "channels": [{"index": 0}, {"index": 1, "colormap": "magma"}]},
]


def test_groups_are_written_next_to_the_channel_defaults(live: LiveServer) -> None:
    r = put(live, {"channels": [{}, {"visible": False}], "groups": GROUPS})
    assert r.status == 200, r.body
    zattrs = json.loads((live.data_dir / "ramp.ome.zarr/.zattrs").read_text())
    assert zattrs["chromatile"]["groups"] == [
        {"name": "nuclei", "channels": [{"index": 0, "color": "#0000ff", "window": [10, 900], "gamma": 1.5,
                                         "invert": False, "colormap": "color"}]},
        {"name": "everything", "channels": [{"index": 0}, {"index": 1, "colormap": "magma"}]},
    ]
    assert zattrs["omero"]["channels"][1]["active"] is False
    # a save without groups keeps the stored ones; an empty list clears them
    assert put(live, {"channels": [{}, {}]}).status == 200
    assert json.loads((live.data_dir / "ramp.ome.zarr/.zattrs").read_text())["chromatile"]["groups"][0]["name"] == "nuclei"
    assert put(live, {"channels": [{}, {}], "groups": []}).status == 200
    assert json.loads((live.data_dir / "ramp.ome.zarr/.zattrs").read_text())["chromatile"]["groups"] == []


@pytest.mark.parametrize(("groups", "message"), [
    ({"name": "x"}, "'groups' must be a list of at most 64 groups"),
    ([{"name": "a", "channels": [], "extra": 1}], 'groups[0] must be an object {"name": ..., "channels": [...]}'),
    ([{"name": " ", "channels": []}], "groups[0].name must be a non-empty name of at most 64 characters"),
    ([{"name": "a", "channels": []}, {"name": "a", "channels": []}], "groups[1].name 'a' is used by an earlier group"),
    ([{"name": "a", "channels": [{"index": 2}]}], "groups[0].channels[0].index must be a channel index in [0, 1]"),
    ([{"name": "a", "channels": [{"index": 1}, {"index": 1}]}], "groups[0].channels[1].index 1 is listed twice"),
    ([{"name": "a", "channels": [{"index": 0, "window": [5, 1]}]}],
     "groups[0].channels[0].window must be [lo, hi] with 0 <= lo < hi <= 65535"),
    ([{"name": "a", "channels": [{"index": 0, "visible": True}]}],
     "groups[0].channels[0] has unknown field(s) visible; allowed: color, window, gamma, invert, colormap"),
])
def test_bad_groups_are_400_and_change_nothing(live: LiveServer, groups: object, message: str) -> None:
    zattrs = live.data_dir / "ramp.ome.zarr/.zattrs"
    before = zattrs.read_bytes()
    r = put(live, {"channels": [{}, {}], "groups": groups})
    assert (r.status, r.json()) == (400, {"error": message})
    assert zattrs.read_bytes() == before


def test_groups_of_a_05_store_go_into_zarr_json(live05: LiveServer) -> None:  # noqa: F811 - the imported fixture
    r = put_to(live05, "ramp5", {"channels": [{}, {}], "groups": GROUPS[:1]})
    assert r.status == 200, r.body
    doc = json.loads((live05.data_dir / "ramp5.ome.zarr" / "zarr.json").read_text())
    assert [g["name"] for g in doc["attributes"]["chromatile"]["groups"]] == ["nuclei"]
    assert "groups" not in doc and "chromatile" not in doc


def put_to(live: LiveServer, image_id: str, body: object):
    return live.get(f"/api/images/{image_id}/defaults", method="PUT",
                    headers={"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"},
                    body=json.dumps(body).encode())
