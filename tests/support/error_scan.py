"""Where the library builds an error without a hint: a scan of the source, for tests/test_errors.py.

Every ``X(...)`` call in dataseal/chain and dataseal/registry where ``X`` is a DatasealError subclass
must pass ``hint=`` — except the errors that make their own hint (a decoded revert, raw revert bytes),
and JSON-RPC errors, whose message is the answer a client reads (geth's wording first).
"""
from __future__ import annotations

import ast
import importlib
import pkgutil
import re
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


# They make their own hint: a revert (a test holds every contract error's hint), a certificate mismatch (of its report).
SELF_HINTED = {"ContractRevert", "Reverted", "CertificateMismatch", "CertificateLapsed"}


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
                hints = [k for k in node.keywords if k.arg in ("hint", None)]  # hint=, or **kwargs
                if hints and not any(isinstance(k.value, ast.Constant) and not k.value.value for k in hints):
                    continue  # (an empty constant hint is no hint)
                missing.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {node.func.id}")
    return missing


#: A command-line flag (--rows, -o), a dataseal command (`dataseal seal`) or a DATASEAL_* variable.
CLI_WORDS = re.compile(r"(?:^|[\s(\[`'\"/])(?:--[a-z]|-o\b)|`dataseal |DATASEAL_")
#: Strings that legitimately name the environment: the settings' own definition.
CLI_WORDS_ALLOWED = {"dataseal/registry/settings.py"}


def strings_naming_the_cli(area: str) -> list[str]:
    """``file:line 'text'`` for each string in dataseal/<area>'s code (docstrings and comments left out)
    that names a command-line flag, a dataseal command or an environment variable."""
    found: list[str] = []
    for path in sorted((PACKAGE / area).rglob("*.py")):
        where = str(path.relative_to(PACKAGE.parent))
        if where in CLI_WORDS_ALLOWED:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
        }
        found += [f"{where}:{node.lineno} {node.value!r}" for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
                  and CLI_WORDS.search(node.value)]
    return found
