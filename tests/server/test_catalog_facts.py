"""Size on disk and date ingested in the catalog: exact, and bounded in time for many large stores."""

from __future__ import annotations

import pytest
from conftest import LiveServer

from chromatile import catalog


def test_size_walks_stop_at_the_listings_time_budget(live: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(catalog, "FACTS_BUDGET_S", 0.0)
    first = live.get("/api/images").json()["images"]
    assert [e["size_bytes"] for e in first] == [None, None], "no walk started after the budget"
    assert all(e["ingested"] and e["ingested"].endswith("Z") for e in first), "the date is one stat: always there"
    monkeypatch.setattr(catalog, "FACTS_BUDGET_S", 5.0)
    sizes = [e["size_bytes"] for e in live.get("/api/images").json()["images"]]
    assert all(isinstance(s, int) and s > 0 for s in sizes)
    monkeypatch.setattr(catalog, "FACTS_BUDGET_S", 0.0)
    again = [e["size_bytes"] for e in live.get("/api/images").json()["images"]]
    assert again == sizes, "a size once walked is remembered"
