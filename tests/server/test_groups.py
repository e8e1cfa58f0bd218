"""Channel groups in "Save as default": validated, stored as chromatile.groups, answered back."""

from __future__ import annotations

import json

import pytest
from conftest import LiveServer
from test_defaults import put

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
