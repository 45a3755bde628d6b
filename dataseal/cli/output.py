"""Rendering helpers shared by the commands: JSON for scripts, plain lines for people."""
from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import typer

#: ``--json``, the option every command takes: ``as_json: bool = JSON``.
JSON = typer.Option(False, "--json", help="Print one JSON document (for scripts) instead of lines for people.")


def _default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if hasattr(value, "to_json"):
        return value.to_json()
    raise TypeError(f"cannot render {type(value).__name__} as JSON")


def emit(data: Any, as_json: bool, human: Callable[[], None]) -> None:
    """Print ``data`` as one JSON document when ``as_json``, else call ``human`` to print for people.

    Text is written as it is (Chinese stays Chinese), unless standard output cannot encode it (an ASCII or
    Latin-1 terminal): then as ``\\u`` escapes, the same JSON."""
    if as_json:
        text = json.dumps(data, default=_default, indent=2, sort_keys=True, ensure_ascii=False)
        try:
            text.encode(getattr(sys.stdout, "encoding", None) or "utf-8")
        except (UnicodeEncodeError, LookupError):
            text = json.dumps(data, default=_default, indent=2, sort_keys=True)
        sys.stdout.write(text + "\n")
    else:
        human()


def note(message: str) -> None:
    """A progress or status line for people, on stderr so that --json output stays clean."""
    print(message, file=sys.stderr)
