"""The engine knows nothing of the web layer: no Django, Channels or DRF, and no imports of
``retrieval`` modules outside ``retrieval.engine``."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parents[2] / "retrieval" / "engine"
FORBIDDEN = {"django", "channels", "rest_framework"}
SOURCES = sorted(ENGINE.rglob("*.py"))


def imported_modules(path: Path) -> list[str]:
    """Absolute names of everything ``path`` imports, relative imports resolved."""
    package = list(path.relative_to(ENGINE.parent.parent).with_suffix("").parts[:-1])
    names = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            names += [base] + [f"{base}.{alias.name}" for alias in node.names]
    return names


def test_engine_sources_are_found():
    assert len(SOURCES) >= 15
    assert ENGINE / "images.py" in SOURCES and ENGINE / "training" / "descriptor.py" in SOURCES


def test_relative_imports_are_resolved():
    names = imported_modules(ENGINE / "training" / "descriptor.py")
    assert "retrieval.engine.config" in names and "retrieval.engine.training.callbacks" in names


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ENGINE)))
def test_no_web_framework_imports(path):
    names = imported_modules(path)
    assert not [n for n in names if n.split(".")[0] in FORBIDDEN]
    outside = [n for n in names if n.startswith("retrieval") and not n.startswith("retrieval.engine")]
    assert not outside, f"{path.name} reaches out of the engine: {outside}"


def test_importing_the_engine_loads_no_web_framework():
    """Transitive check in a clean interpreter: third-party imports may not pull them in either."""
    modules = sorted(
        ".".join(p.relative_to(ENGINE.parent.parent).with_suffix("").parts).removesuffix(".__init__")
        for p in SOURCES
    )
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {sorted(FORBIDDEN)!r})\n"
        "print(len(sys.modules)); assert not bad, bad\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ENGINE.parent.parent, capture_output=True,
                            text=True, timeout=120, env={"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-2000:]
