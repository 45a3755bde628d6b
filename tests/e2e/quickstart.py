"""The README's quickstart as the end-to-end tests run it: the fenced block after the ``<!-- quickstart`` marker,
with only the ports (and how the shell finds ``dataseal``) put in, run in one bash process (its variables carry from
line to line, as in a terminal), each command's output and exit status kept apart.

Also the API-key helper the HTTP-write tests use: a key made the way an operator makes one, with the CLI."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.chain.embedded.clocks import HANG_GUARD_SECONDS
from tests.cli.commands.test_up import Up
from tests.support.devnode import ROOT

README = ROOT / "README.md"
MARKER = "<!-- quickstart"
#: The addresses the README prints, which the tests replace with those of the service they started.
README_API = "http://127.0.0.1:8000"
README_RPC = "http://127.0.0.1:8545"
#: The README's line that puts `dataseal` on the PATH (the tests' own interpreter's folder instead).
ACTIVATE = ". .venv/bin/activate"
#: A comment on a command that is meant to fail says so, with its exit status.
EXPECTED_EXIT = re.compile(r"#.*\(exit (\d+)\)\s*$")
#: A guard against a hang of the whole block (one service round trip a command, ~30 commands): not a time limit.
BLOCK_GUARD_SECONDS = 10 * HANG_GUARD_SECONDS


def read_quickstart(readme: Path = README) -> list[str]:
    """The commands of the README's quickstart block, one a line (a line ending in a backslash goes on)."""
    text = readme.read_text(encoding="utf-8")
    at = text.find(MARKER)
    assert at >= 0, f"README.md has no {MARKER} marker before its quickstart block"
    found = re.search(r"```sh\n(.*?)\n```", text[at:], re.S)
    assert found is not None, "no ```sh block after the quickstart marker"
    assert not text[at:at + found.start()].strip().count("\n"), "the ```sh block must follow the marker's line"
    commands: list[str] = []
    pending = ""
    for line in found.group(1).splitlines():
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        line = pending + line
        pending = ""
        if line.strip() and not line.lstrip().startswith("#"):
            commands.append(line)
    return commands


def expected_exit(command: str) -> int:
    found = EXPECTED_EXIT.search(command)
    return int(found.group(1)) if found else 0


@dataclass
class Step:
    command: str
    """As the README prints it."""
    run: str
    """As it was run (the ports replaced)."""
    code: int
    out: str
    err: str


@dataclass
class Journey:
    """The quickstart run once: the folder it ran in, the service, each command's result."""

    folder: Path
    up: Up
    steps: list[Step]

    def step(self, part: str) -> Step:
        """The one command whose README text holds ``part``."""
        found = [step for step in self.steps if matches(part, step.command)]
        assert len(found) == 1, f"{len(found)} quickstart commands hold {part!r}: {[s.command for s in found]}"
        return found[0]


def localise(commands: list[str], *, api_url: str, rpc_url: str) -> list[str]:
    """The commands with the README's ports replaced by the service's, and `dataseal` found in this interpreter's
    folder; each replacement must have something to replace (a README that stops printing them fails here)."""
    block = "\n".join(commands)
    for printed in (README_API, README_RPC, ACTIVATE):
        assert printed in block, f"the quickstart no longer has {printed!r}: update tests/e2e/quickstart.py"
    bin_dir = Path(sys.executable).parent
    return [command.replace(ACTIVATE, f'export PATH="{bin_dir}:$PATH"')
            .replace(README_API, api_url).replace(README_RPC, rpc_url) for command in commands]


def run_quickstart(folder: Path, *, api_url: str, rpc_url: str, env: dict[str, str] | None = None) -> list[Step]:
    """Run the quickstart in ``folder`` (in one bash process) and return each command's result."""
    commands = read_quickstart()
    runs = localise(commands, api_url=api_url, rpc_url=rpc_url)
    script = []
    for i, command in enumerate(runs):
        script += [f"printf '\\n@@ {i}\\n'; printf '\\n@@ {i}\\n' >&2", command, f"printf '\\n@@ {i} rc %d\\n' $?"]
    done = subprocess.run(["bash", "-c", "\n".join(script)], cwd=folder, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, env=env or base_env(), timeout=BLOCK_GUARD_SECONDS)
    outs, codes = _split(done.stdout)
    errs, _ = _split(done.stderr)
    assert len(outs) == len(commands), f"the block stopped after {len(outs)} commands: {done.stderr[-3000:]}"
    return [Step(command, run, codes[i], outs[i], errs.get(i, ""))
            for i, (command, run) in enumerate(zip(commands, runs, strict=True))]


def _split(text: str) -> tuple[dict[int, str], dict[int, int]]:
    parts: dict[int, str] = {}
    codes: dict[int, int] = {}
    current: int | None = None
    for piece in re.split(r"(\n@@ \d+(?: rc \d+)?\n)", text):
        marker = re.fullmatch(r"\n@@ (\d+)(?: rc (\d+))?\n", piece)
        if marker is None:
            if current is not None:
                parts[current] = parts.get(current, "") + piece
            continue
        current = int(marker.group(1))
        parts.setdefault(current, "")
        if marker.group(2) is not None:
            codes[current] = int(marker.group(2))
            current = None
    return parts, codes


def matches(part: str, command: str) -> bool:
    """Whether ``command`` holds ``part`` (``part$``: ends with it, before its comment)."""
    if part.endswith("$"):
        return command.split("#", 1)[0].rstrip().endswith(part[:-1])
    return part in command


def base_env(**more: str) -> dict[str, str]:
    """The environment of this test run without the shell's DATASEAL_* and DATABASE_URL (as tests/conftest.py's
    clean_env; module fixtures start before it), running this tree, with ``more`` on top."""
    clean = {name: value for name, value in os.environ.items()
             if not name.startswith("DATASEAL_") and name not in ("DATABASE_URL", "COLUMNS", "LINES")}
    return {**clean, "PYTHONPATH": str(ROOT), **more}


def dataseal(folder: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`dataseal ARGS` in ``folder``, as a user runs it (a subprocess)."""
    return subprocess.run([sys.executable, "-m", "dataseal.cli.main", *args], cwd=folder, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, env=env or base_env(), timeout=HANG_GUARD_SECONDS)


def make_api_key(folder: Path, name: str, *args: str, env: dict[str, str] | None = None) -> str:
    """An operator API key made with `dataseal api-key create NAME --json` in the service's folder."""
    done = dataseal(folder, "api-key", "create", name, "--json", *args, env=env)
    assert done.returncode == 0, done.stderr
    key: str = json.loads(done.stdout)["key"]
    return key
