"""How commands print: one JSON document for scripts, lines for people, notes on stderr."""
from __future__ import annotations

import io
import json
import sys

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


def test_json_keeps_chinese_as_it_is(capsys: pytest.CaptureFixture[str]) -> None:
    emit({"title": "深圳市公共交通客流", "n": 1}, True, lambda: print("never"))
    out, _ = capsys.readouterr()
    assert '"title": "深圳市公共交通客流"' in out and "\\u" not in out
    assert json.loads(out) == {"title": "深圳市公共交通客流", "n": 1}


def test_json_escapes_what_the_terminal_cannot_print(monkeypatch: pytest.MonkeyPatch) -> None:
    """Output to a stream that cannot hold Chinese (PYTHONIOENCODING=ascii) gets \\u escapes: the same JSON, never
    an encoding error."""
    stream = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    monkeypatch.setattr(sys, "stdout", stream)
    emit({"title": "深圳"}, True, lambda: print("never"))
    stream.flush()
    text = stream.buffer.getvalue().decode("ascii")  # type: ignore[attr-defined]
    assert '"title": "\\u6df1\\u5733"' in text and json.loads(text) == {"title": "深圳"}
