"""Errors of sealing: each family's kind, and library messages that name no command-line flag."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from dataseal.errors import DatasealError, ErrorKind
from dataseal.registry.sealing import (
    EmptyInputError,
    InputChangedError,
    MalformedTableError,
    SealError,
    SecretError,
    SpecialFileError,
    UnreadableInputError,
)
from dataseal.registry.sealing.canonical import CanonicalJsonError

REGISTRY = Path(__file__).resolve().parents[3] / "dataseal" / "registry"
#: The modules whose messages this branch owns: sealing, manifests, evidence, document checks, Merkle.
MODULES = [
    *sorted((REGISTRY / "sealing").glob("*.py")),
    *sorted((REGISTRY / "merkle").glob("*.py")),
    REGISTRY / "manifest.py",
    REGISTRY / "evidence.py",
    REGISTRY / "checks.py",
]
#: A command-line flag (--rows, -o), or a dataseal command (`dataseal seal`).
CLI_WORDS = re.compile(r"(?:^|[\s(\[`'\"/])(?:--[a-z]|-o\b)|`dataseal ")


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (SealError, ErrorKind.INVALID_INPUT),
        (EmptyInputError, ErrorKind.INVALID_INPUT),
        (UnreadableInputError, ErrorKind.INVALID_INPUT),
        (InputChangedError, ErrorKind.CONFLICT),
        (SpecialFileError, ErrorKind.INVALID_INPUT),
        (MalformedTableError, ErrorKind.INVALID_INPUT),
        (SecretError, ErrorKind.INVALID_INPUT),
        (CanonicalJsonError, ErrorKind.INVALID_INPUT),
    ],
)
def test_every_family_has_a_kind_and_is_a_dataseal_error(error: type[DatasealError], kind: ErrorKind) -> None:
    assert issubclass(error, DatasealError) and not issubclass(error, ValueError)
    assert error.kind is kind


def _strings(path: Path) -> list[tuple[int, str]]:
    """Every string in the code of ``path`` (f-string parts too), docstrings left out."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(REGISTRY)))
def test_library_messages_name_no_flag_and_no_command(path: Path) -> None:
    """A library error names the options that would change it (``options=("symlinks",)``); the front door
    spells them (the CLI as --symlinks, the API as a field)."""
    found = [f"line {line}: {text!r}" for line, text in _strings(path) if CLI_WORDS.search(text)]
    assert not found, f"{path.name} names command-line flags or commands: {found}"
