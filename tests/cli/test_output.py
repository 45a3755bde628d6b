"""How commands print: one JSON document for scripts, lines for people, notes on stderr."""
from __future__ import annotations

import json

import pytest

from dataseal.cli.output import emit, note


def test_json_for_scripts_and_lines_for_people(capsys: pytest.CaptureFixture[str]) -> None:
    emit({"root": b"\x01\x02", "n": 3}, True, lambda: print("never"))
    out, _ = capsys.readouterr()
    assert json.loads(out) == {"n": 3, "root": "0x0102"}
    emit({"root": b"\x01"}, False, lambda: print("for people"))
    assert capsys.readouterr().out == "for people\n"


def test_notes_go_to_stderr_so_json_stays_clean(capsys: pytest.CaptureFixture[str]) -> None:
    note("deploying ...")
    out, err = capsys.readouterr()
    assert (out, err) == ("", "deploying ...\n")
