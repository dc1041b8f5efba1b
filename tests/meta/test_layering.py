"""The package layers only import downwards: the model is the contract everything builds on.

Imports are read with ``ast`` (including the lazy ones inside functions), so a
layer inversion fails here even when it is hidden from start-up.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "policyengine"

#: layer -> the packages it must never import (directly or lazily)
FORBIDDEN: dict[str, tuple[str, ...]] = {
    # the contract: only the standard library and itself
    "model": (
        "policyengine.policy",
        "policyengine.findings",
        "policyengine.snapshot",
        "policyengine.engine",
        "policyengine.history",
        "policyengine.report",
        "policyengine.scan",
        "policyengine.cli",
        "connectors",
    ),
    "policy": (
        "policyengine.findings",
        "policyengine.snapshot",
        "policyengine.engine",
        "policyengine.history",
        "policyengine.report",
        "policyengine.scan",
        "policyengine.cli",
        "connectors",
    ),
    "snapshot": (
        "policyengine.policy",
        "policyengine.findings",
        "policyengine.engine",
        "policyengine.history",
        "policyengine.report",
        "policyengine.scan",
        "policyengine.cli",
        "connectors",
    ),
}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in a file, wherever it is."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            # `from policyengine import policy` names the package in the alias
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def _violations(layer: str) -> list[str]:
    out = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for line, module in imported_modules(path):
            for banned in FORBIDDEN[layer]:
                if module == banned or module.startswith(banned + "."):
                    out.append(f"{path.relative_to(PACKAGE.parent)}:{line}: imports {module}")
    return out


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_only_downwards(layer: str) -> None:
    assert _violations(layer) == []


def test_the_check_sees_lazy_imports(tmp_path: Path) -> None:
    source = tmp_path / "lazy.py"
    source.write_text("def f():\n    from policyengine.findings.model import Evidence\n")
    assert imported_modules(source) == [
        (2, "policyengine.findings.model"),
        (2, "policyengine.findings.model.Evidence"),
    ]
