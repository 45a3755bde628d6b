"""Where the library builds an error without a hint: a scan of the source, for tests/test_errors.py.

Every ``X(...)`` call in dataseal/chain and dataseal/registry where ``X`` is a DatasealError subclass
must pass ``hint=`` — except the errors that make their own hint (a decoded revert, raw revert bytes),
and JSON-RPC errors, whose message is the answer a client reads (geth's wording first).
"""
from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import dataseal
from dataseal.chain.embedded.errors import RpcError
from dataseal.errors import DatasealError

PACKAGE = Path(dataseal.__file__).resolve().parent
AREAS = ("chain", "registry")


def error_classes() -> dict[str, type[DatasealError]]:
    """Every DatasealError subclass of the library, by name."""
    for area in AREAS:
        package = importlib.import_module(f"dataseal.{area}")
        for info in pkgutil.walk_packages(package.__path__, f"dataseal.{area}."):
            importlib.import_module(info.name)
    found: dict[str, type[DatasealError]] = {}
    pending: list[type[DatasealError]] = [DatasealError]
    while pending:
        cls = pending.pop()
        found[cls.__name__] = cls
        pending.extend(cls.__subclasses__())
    return found


SELF_HINTED = {"ContractRevert", "Reverted"}  # they make their own hint


def calls_without_hint(area: str | None = None) -> list[str]:
    """``file:line Class`` for each error built without ``hint=`` in dataseal/<area> (all areas by default)."""
    classes = error_classes()
    missing: list[str] = []
    for root in (AREAS if area is None else (area,)):
        for path in sorted((PACKAGE / root).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                    continue
                cls = classes.get(node.func.id)
                if cls is None or node.func.id in SELF_HINTED or issubclass(cls, RpcError):
                    continue
                if any(keyword.arg in ("hint", None) for keyword in node.keywords):  # hint=, or **kwargs
                    continue
                missing.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {node.func.id}")
    return missing
