"""The web side's layout: ``retrieval/core/`` imports no capability package, and a capability's
query kind is found through its registration alone."""

from pathlib import Path

import pytest

from tests.engine.test_layering import imported_modules

RETRIEVAL = Path(__file__).resolve().parents[2] / "retrieval"
CORE = sorted((RETRIEVAL / "core").rglob("*.py"))
CAPABILITIES = sorted(p.name for p in RETRIEVAL.iterdir()
                      if p.is_dir() and (p / "__init__.py").exists() and p.name not in {"core", "engine", "models",
                                                                                       "management", "migrations",
                                                                                       "templatetags"})


def test_capability_packages_are_found():
    assert {"search", "sketch", "degraded", "galleries", "training"} <= set(CAPABILITIES)


@pytest.mark.parametrize("path", CORE, ids=lambda p: p.name)
def test_core_imports_no_capability(path):
    reached = [n for n in imported_modules(path) if n.split(".")[:2][-1] in CAPABILITIES and n.startswith("retrieval.")]
    assert not reached, f"core/{path.name} imports a capability: {reached}"


def test_every_query_kind_is_registered_with_its_routes():
    from django.urls import reverse

    from retrieval.core.kinds import query_kinds

    kinds = {kind.name: kind for kind in query_kinds()}
    assert {"search", "sketch", "degrade", "lab"} <= set(kinds)
    for name in ("search", "sketch", "degrade"):
        assert kinds[name].api, f"{name} has no API route"
    for kind in kinds.values():
        assert reverse(f"retrieval:{kind.page_name}") == "/" + kind.page_path
        for route in kind.api:
            assert reverse(f"api:{route.name}") == "/api/" + route.path
