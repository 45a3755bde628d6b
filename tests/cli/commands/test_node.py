"""`dataseal node` at the front door: options checked before anything starts."""
from __future__ import annotations

from tests.cli.conftest import Cli


def test_node_refuses_a_balance_that_does_not_fit(cli: Cli) -> None:
    code, _, err = cli("node", "--fund", "0x0000000000000000000000000000000000000001=1e80", "--port", "0")
    assert code == 2 and "does not fit an account balance" in err and "Traceback" not in err
