"""The OpenAPI document, a fuzz run over it (no 5xx, every error JSON), and a guard on the route table."""

from __future__ import annotations

import json

import schemathesis
from conftest import ADMIN, LiveServer
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

EXPECTED_ROUTES = {
    ("/", "GET"), ("/view", "GET"), ("/view/<image_id>", "GET"), ("/viewer/<path:path>", "GET"),
    ("/api/openapi.json", "GET"), ("/api/health", "GET"), ("/api/images", "GET"),
    ("/api/images/<image_id>", "GET"), ("/api/images/<image_id>/thumbnail.png", "GET"),
    ("/api/images/<image_id>/defaults", "PUT"),
    ("/api/admin/images/<image_id>/withdraw", "POST"), ("/api/admin/images/<image_id>/restore", "POST"),
    ("/api/admin/images/<image_id>/private", "POST"), ("/api/admin/images/<image_id>/public", "POST"),
    ("/data/<store>/<path:path>", "GET"),
}


def test_route_table_is_what_the_contract_lists(live: LiveServer) -> None:
    routes = {(rule.rule, method) for rule in live.app.url_map.iter_rules()
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routes == EXPECTED_ROUTES


def test_openapi_document_loads_and_covers_the_json_api(live: LiveServer) -> None:
    r = live.get("/api/openapi.json")
    doc = r.json()
    assert doc["openapi"] == "3.0.3"
    assert set(doc["paths"]) == {
        "/api/health", "/api/images", "/api/images/{image_id}", "/api/images/{image_id}/thumbnail.png",
        "/api/images/{image_id}/defaults", "/api/admin/images/{image_id}/withdraw",
        "/api/admin/images/{image_id}/restore", "/api/admin/images/{image_id}/private",
        "/api/admin/images/{image_id}/public", "/data/{store}/{path}"}
    schema = schemathesis.openapi.from_dict(doc)
    schema.validate()
    assert len([op for op in schema.get_all_operations() if op.ok()]) == 10


def test_every_error_is_json(live: LiveServer) -> None:
    for method, path in (("GET", "/nope"), ("DELETE", "/api/images"), ("POST", "/data/ramp.ome.zarr/.zattrs"),
                         ("GET", "/api/images/ramp/thumbnail.jpg"), ("GET", "/"), ("GET", "/viewer/x.js"),
                         ("PUT", "/api/images/ramp/defaults")):
        r = live.get(path, method=method)
        assert 400 <= r.status < 500, (method, path)
        assert r.header("Content-Type") == "application/json", (method, path)
        assert set(r.json()) == {"error"}, (method, path)
    allow = live.get("/api/images", method="DELETE").header("Allow")
    assert sorted(allow.split(", ")) == ["GET", "HEAD", "OPTIONS"]


def fuzz(base: str, operation: schemathesis.APIOperation, mode: GenerationMode,
         headers: dict[str, str], seen: list[int]) -> None:
    """Up to 30 generated requests to one operation: never a 5xx, every error body is JSON."""

    @settings(max_examples=30, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: schemathesis.Case) -> None:
        response = case.call(base_url=base, headers=headers, timeout=20)
        seen.append(response.status_code)
        assert response.status_code < 500, (case.method, case.formatted_path, response.text)
        if response.status_code >= 400 and response.content:
            assert set(json.loads(response.content)) == {"error"}, response.text

    check()


def test_fuzzing_the_api_finds_no_5xx(live: LiveServer) -> None:
    schema = schemathesis.openapi.from_url(f"{live.url}/api/openapi.json")
    seen: list[int] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        fuzz(live.url, operation, GenerationMode.POSITIVE, {}, seen)
        fuzz(live.url, operation, GenerationMode.POSITIVE, {"Authorization": f"Bearer {ADMIN}"}, seen)
        if "{" in operation.path:  # with nothing to get wrong, negative cases cannot be generated
            fuzz(live.url, operation, GenerationMode.NEGATIVE, {}, seen)
    assert min(seen) < 300 and max(seen) >= 400  # both accepted and refused requests were made
