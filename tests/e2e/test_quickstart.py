"""The README's quickstart, run as printed (only the ports put in) against a `dataseal up` started in the background
in a fresh folder: on its embedded chain with SQLite, then on a hardhat node with PostgreSQL. Every command's exit
status is checked (the one the README says is refused must be refused), and the output of the ones that matter.

The HTTP reads over the same journey are in test_http.py (they share the embedded run, tests/e2e/conftest.py's
``journey``: one `up`, one quickstart)."""
from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.commands.test_up import running_up
from tests.e2e.quickstart import (
    Journey,
    Step,
    base_env,
    dataseal,
    expected_exit,
    matches,
    read_quickstart,
    run_quickstart,
)
from tests.registry.conftest import postgres  # noqa: F401 - the session's PostgreSQL server (a fixture)
from tests.support.postgres import PostgresServer

ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


def _json(step: Step) -> dict[str, object]:
    data: dict[str, object] = json.loads(step.out)
    return data


def _pdf(path: Path) -> bool:
    assert path.read_bytes()[:5] == b"%PDF-", f"{path} is not a PDF"
    return True


#: What the commands that matter print (a part of the README's text of the command -> a check of its result).
#: Every command, checked here or not, must exit as its comment says (0 unless "(exit N)").
CHECKS: dict[str, Callable[[Step, Path], object]] = {
    "register hello.txt": lambda s, _: (
        assert_in("registered asset 1", s.out), assert_in("certificate    DS-", s.out)),
    "dataseal verify hello.txt": lambda s, _: assert_in("REGISTERED  hello.txt: asset 1, Active", s.out),
    "register survey.csv": lambda s, _: assert_in("registered asset 2: Active", s.out),
    "dataseal prove survey.csv": lambda s, _: (
        assert_in("wrote row1.bundle.json: row 1 of survey.csv", s.out),
        assert_in("evidence bundle with the registration of asset 2", s.out)),
    "check row1.bundle.json --rpc": lambda s, _: (
        assert_in("OK  row1.bundle.json", s.out), assert_in("checked      proof 0: row 1 is in the tree", s.out),
        assert_in("checked      chain: asset 2 still holds root", s.out), assert_not_in("not checked", s.out)),
    "account new": lambda s, _: assert_in("created .dataseal/keystore/UTC--", s.err),
    "account fund": lambda s, _: assert_true(re.search(r"^sent 10 ETH from 0x[0-9a-fA-F]{40} to 0x[0-9a-fA-F]{40}",
                                                       s.out) is not None, s.out),
    "dataseal grant 2": lambda s, _: (
        assert_in("grant 1 of asset 2 to 0x", s.out), assert_in("quota    4 units", s.out)),
    "-o r1.json": lambda s, f: assert_true((f / "r1.json").is_file(), s.err),
    "-o r2.json": lambda s, f: assert_true((f / "r2.json").is_file(), s.err),
    "--receipt r1.json": lambda s, _: assert_in("recorded under grant 1: 4 units, sequence 1", s.out),
    "--receipt r2.json": lambda s, _: assert_in(
        "dataseal: error: grant 1 has 0 of its 4 units left, 4 units were asked for", s.err),
    "dataseal revoke 1": lambda s, _: assert_in("grant 1 of asset 2 revoked by", s.out),
    "audit 2 --verify": lambda s, _: (
        assert_true(s.out.count("UsageRecorded") == 1, s.out), assert_in("GrantRevoked", s.out),
        assert_in("verified: the 5 entries of asset 2 match the chain's logs", s.out)),
    "certificate 2 -o survey.pdf": lambda s, f: _pdf(f / "survey.pdf"),
    "/health": lambda s, _: assert_true(_json(s)["status"] == "ok", s.out),
    "/assets/2$": lambda s, _: assert_true(_json(s)["asset_id"] == 2 and _json(s)["title"] == "Survey 2024", s.out),
    "/verify/file": lambda s, _: assert_true(_json(s)["registered"] is True and _json(s)["asset_id"] == 1, s.out),
    "/verify/bundle": lambda s, _: assert_true(_json(s)["ok"] is True, s.out),
    "trail?format=csv": lambda s, _: assert_true(s.out.startswith("block_number,") and "GrantRevoked" in s.out, s.out),
    "certificate?format=pdf": lambda s, f: _pdf(f / "survey-api.pdf"),
    "api-key create": lambda s, _: assert_true(re.search(r"^dsk_[A-Za-z0-9_-]{43}$", s.out, re.M) is not None, s.out),
}


def assert_in(part: str, text: str) -> bool:
    assert part in text, f"{part!r} not in {text!r}"
    return True


def assert_not_in(part: str, text: str) -> bool:
    assert part not in text, f"{part!r} in {text!r}"
    return True


def assert_true(condition: bool, context: str) -> bool:
    assert condition, context
    return True


def verify_journey(journey: Journey) -> None:
    for step in journey.steps:
        assert step.code == expected_exit(step.command), (step.run, step.out, step.err)
        assert "Traceback" not in step.err and "internal error" not in step.err, (step.run, step.err)
    for part, check in CHECKS.items():
        check(journey.step(part), journey.folder)


@pytest.mark.xdist_group("e2e-journey")  # with test_http.py: one worker, one journey
def test_the_readme_quickstart_works_as_printed_on_the_embedded_chain(journey: Journey) -> None:
    verify_journey(journey)


def test_the_quickstart_is_the_block_the_readme_shows() -> None:
    commands = read_quickstart()
    assert commands[0] == ". .venv/bin/activate                          # `dataseal` on this terminal's PATH"
    assert [expected_exit(c) for c in commands].count(1) == 1  # the quota, used up
    for part in CHECKS:
        assert sum(matches(part, command) for command in commands) == 1, part


@pytest.mark.hardhat
def test_the_quickstart_works_against_a_real_node_and_postgresql(
        tmp_path: Path, hardhat_url: str, postgres: PostgresServer) -> None:  # noqa: F811
    """The same block against `dataseal up --rpc URL --database-url URL`: the commands reach the node and the
    database through DATASEAL_RPC_URL and DATABASE_URL, as the README says."""
    name = f"test_{uuid.uuid4().hex[:16]}"
    database = postgres.create_database(name)
    try:
        key_file = tmp_path / "key.txt"  # hardhat's account 2 (test_up uses account 1)
        key_file.write_text("0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a\n")
        password = tmp_path / "operator.pw"
        password.write_text("the operator's passphrase\n")
        for args in (["account", "import", str(key_file), "--password-file", str(password), "--light-kdf"],
                     ["deploy", "--rpc", hardhat_url, "--password-file", str(password)]):
            done = dataseal(tmp_path, *args)
            assert done.returncode == 0, done.stderr
        env = base_env(DATASEAL_RPC_URL=hardhat_url, DATABASE_URL=database,
                       DATASEAL_PASSWORD="the operator's passphrase")
        with running_up(tmp_path, "--api-port", "0", "--poll-interval", "0.1", env=env) as up:
            assert up.ready["embedded"] is False and up.ready["database"].startswith("postgresql")
            steps = run_quickstart(tmp_path, api_url=up.api, rpc_url=hardhat_url, env=env)
            verify_journey(Journey(tmp_path, up, steps))
    finally:
        postgres.drop_database(name)
