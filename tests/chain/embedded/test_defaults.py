"""The embedded chain's defaults (dataseal.chain.embedded.defaults): their values, and that the front
doors can show them without loading py-evm."""
from __future__ import annotations

import subprocess
import sys

from dataseal.chain.embedded.defaults import (
    DEFAULT_CALL_GAS_CAP,
    DEFAULT_CALL_TIMEOUT,
    DEFAULT_CHAIN_ID,
    DEFAULT_FUNDING_WEI,
)
from tests.chain.embedded.helpers import ETH, ROOT


def test_the_chain_id_is_data_in_ascii() -> None:
    assert DEFAULT_CHAIN_ID == 1684108385 == int.from_bytes(b"data", "big")
    assert DEFAULT_CHAIN_ID.to_bytes(4, "big").decode("ascii") == "data"


def test_the_funding_and_geths_call_limits() -> None:
    assert DEFAULT_FUNDING_WEI == 1_000_000 * ETH
    assert DEFAULT_CALL_GAS_CAP == 50_000_000  # geth's RPCGasCap
    assert DEFAULT_CALL_TIMEOUT == 5.0  # geth's RPCEVMTimeout, in seconds


def test_reading_the_defaults_loads_no_py_evm() -> None:
    # py-evm takes a second to load and raises the recursion limit: a front door showing its help must not pay that.
    probe = (
        "import sys; limit = sys.getrecursionlimit(); import dataseal.chain.embedded.defaults; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('eth', 'eth_abi', 'rlp', 'web3')), "
        "sys.getrecursionlimit() == limit)"
    )
    shown = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert shown.stdout.split() == ["[]", "True"], shown.stderr
