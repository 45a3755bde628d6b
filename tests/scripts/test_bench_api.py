"""scripts/bench/api.py: its baseline route on the real app, and a tiny run end to end (`dataseal up`, the CLI, the
load) whose last line holds every figure. Nothing here looks at the figures' values: the benchmark measures time,
this only checks that it runs and says what it measured."""
from __future__ import annotations

import json
import subprocess
import sys

from dataseal.api.app import create_app
from scripts.bench.api import BASELINE_PATH, ENDPOINTS, add_baseline
from tests.api.conftest import ApiClient, World, world  # noqa: F401 - a fixture (dataseal on a py-evm chain)
from tests.support.devnode import ROOT

#: Every key the issue names, and the ratios.
REQUIRED = ("verify_rps", "asset_rps", "baseline_rps", "verify_p99_ms", "asset_p99_ms", "verify_ratio", "asset_ratio")


def test_the_baseline_is_a_constant_on_the_same_app_outside_its_schema(world: World) -> None:  # noqa: F811
    client = ApiClient(add_baseline(create_app(world.registry)))
    answer = client.get(BASELINE_PATH)
    assert answer.status_code == 200 and answer.json() == {"constant": "dataseal"}
    assert BASELINE_PATH not in client.get("/openapi.json").json()["paths"]
    assert client.get(BASELINE_PATH, headers={"host": "evil.example"}).status_code == 400  # behind the app's middleware
    assert client.get(f"/assets/{world.asset_id}").status_code == 200  # the product's routes beside it


def test_a_tiny_run_prints_every_figure_on_its_last_line() -> None:
    command = [sys.executable, str(ROOT / "scripts" / "bench" / "api.py"), "--seconds", "0.5", "--warmup", "0",
               "--rounds", "1", "--connections", "4", "--assets", "1", "--file-kib", "64", "--no-postgres"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(REQUIRED) <= set(figures)
    for endpoint in ENDPOINTS:
        assert figures[f"{endpoint}_errors"] == 0
        assert isinstance(figures[f"{endpoint}_rps"], int | float) and figures[f"{endpoint}_rps"] >= 0
        for q in ("p50", "p99"):  # null when no request was answered within the (tiny) window
            assert figures[f"{endpoint}_{q}_ms"] is None or figures[f"{endpoint}_{q}_ms"] > 0
    assert figures["proof_checked_on_chain"] is True and figures["client"] == "aiohttp"
    assert not any(key.endswith("_postgres") for key in figures)
    assert "asset 1, a proof of chunk 15 of 16" in done.stdout  # 64 KiB in 4 KiB chunks: the last chunk proved
