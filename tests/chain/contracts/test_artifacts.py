"""The committed artifacts (dataseal/chain/contracts/artifacts/) are what a fresh compile of contracts/ produces."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_committed_artifacts_match_a_fresh_compile() -> None:
    assert (ROOT / "node_modules" / ".bin" / "hardhat").exists(), (
        "node_modules is missing: run `make test` (it runs npm ci) before pytest"
    )
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_contracts"), "--check"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr + result.stdout
