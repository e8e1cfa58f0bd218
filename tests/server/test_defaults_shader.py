"""A compositing shader and user colormaps/blends in "Save as default": validated, stored as
chromatile.shader and chromatile.definitions (issue 11)."""

from __future__ import annotations

import json

import pytest
from conftest import LiveServer
from test_defaults import put
from test_groups import put_to
from test_ngff05_store import live05, seed05  # noqa: F401 - fixtures of the 0.5 stores

SHADER = {"source": "#uicontrol float top slider(min=0, max=4, default=2)\nvec3 composite() { return vec3(raw(0) / top); }",
          "controls": {"top": 1.5}}
DEFS = {"colormaps": {"dusk": "vec3 colormap_dusk(float t, vec3 color) { return vec3(t); }"}, "blends": {}}


def zattrs(live: LiveServer) -> dict:
    return json.loads((live.data_dir / "ramp.ome.zarr/.zattrs").read_text())


def test_shader_and_definitions_are_stored_and_cleared(live: LiveServer) -> None:
    r = put(live, {"channels": [{"colormap": "dusk"}, {}], "shader": SHADER, "definitions": DEFS})
    assert r.status == 200, r.body
    block = zattrs(live)["chromatile"]
    assert block["shader"] == SHADER
    assert block["definitions"] == DEFS
    assert zattrs(live)["chromatile"]["rendering"][0]["colormap"] == "dusk"
    # A save without `shader` keeps the stored one; shader null (the built-in) removes both.
    assert put(live, {"channels": [{}, {}]}).status == 200
    assert zattrs(live)["chromatile"]["shader"] == SHADER
    assert put(live, {"channels": [{"colormap": "color"}, {}], "shader": None}).status == 200
    assert "shader" not in zattrs(live)["chromatile"] and "definitions" not in zattrs(live)["chromatile"]


def test_a_05_store_keeps_the_shader_in_zarr_json(live05: LiveServer) -> None:  # noqa: F811 - the imported fixture
    r = put_to(live05, "ramp5", {"channels": [{}, {}], "shader": SHADER, "definitions": DEFS})
    assert r.status == 200, r.body
    doc = json.loads((live05.data_dir / "ramp5.ome.zarr" / "zarr.json").read_text())
    assert doc["attributes"]["chromatile"]["shader"] == SHADER


@pytest.mark.parametrize(("part", "message"), [
    ({"shader": "vec3 composite()"}, "'shader' must be null or an object {\"source\": ..., \"controls\": {...}}"),
    ({"shader": {"source": "x" * 16385}}, "shader.source must be GLSL text of at most 16384 characters"),
    ({"shader": {"source": "vec3 composite() { return vec3(0.0); }", "controls": {"a b": 1}}},
     "shader.controls: 'a b' is not a control name"),
    ({"shader": {"source": "vec3 composite() { return vec3(0.0); }", "controls": {"top": [1]}}},
     "shader.controls.top must be a number, true/false or '#rrggbb'"),
    ({"shader": None, "definitions": {"colormaps": {"Dusk": "vec3 colormap_Dusk(float t, vec3 c) { return c; }"}}},
     "definitions.colormaps: 'Dusk' is not a name (a-z, 0-9, _; at most 32)"),
    ({"shader": None, "definitions": {"blends": {"screen": "vec3 other(vec3 a, vec3 b) { return a; }"}}},
     "definitions.blends.screen must define vec3 blend_screen(...)"),
    ({"definitions": DEFS}, "'definitions' comes with 'shader' (null for the built-in compositing)"),
])
def test_bad_shader_parts_are_400_and_change_nothing(live: LiveServer, part: dict, message: str) -> None:
    path = live.data_dir / "ramp.ome.zarr/.zattrs"
    before = path.read_bytes()
    r = put(live, {"channels": [{}, {}], **part})
    assert (r.status, r.json()) == (400, {"error": message})
    assert path.read_bytes() == before
