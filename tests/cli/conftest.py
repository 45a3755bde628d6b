"""CLI test fixtures: the CLI run in-process, a password file, and the chain backends of tests/chain
(the clean environment is tests/conftest.py's)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dataseal.cli.main import main
from tests.chain.conftest import backend, embedded_backend, hardhat_backend  # noqa: F401 - fixtures


class Cli:
    """Runs `dataseal ...` in-process; returns (exit status, stdout, stderr)."""

    def __init__(self, capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
        self.capsys = capsys
        self.data_dir = data_dir

    def __call__(self, *args: str, data_dir: bool = True) -> tuple[int, str, str]:
        argv = list(args)
        if data_dir:
            argv += ["--data-dir", str(self.data_dir)]
        self.capsys.readouterr()
        code = main(argv)
        out, err = self.capsys.readouterr()
        return code, out, err

    def json(self, *args: str) -> Any:
        code, out, err = self(*args, "--json")
        assert code == 0, err
        return json.loads(out)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Cli:
    return Cli(capsys, tmp_path / "data")


@pytest.fixture
def password_file(tmp_path: Path) -> Path:
    path = tmp_path / "password.txt"
    path.write_text("correct horse battery staple\n")
    return path


def one_line(err: str) -> str:
    """The one line an error printed (asserting it is one, without a traceback)."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]
