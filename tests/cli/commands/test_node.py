"""`dataseal node` at the front door: options checked before anything starts."""
from __future__ import annotations

from tests.cli.conftest import Cli, one_line


def test_node_refuses_a_balance_that_does_not_fit(cli: Cli) -> None:
    code, _, err = cli("node", "--fund", "0x0000000000000000000000000000000000000001=1e80", "--port", "0")
    assert code == 2 and "does not fit an account balance" in err and "Traceback" not in err


def test_node_help_says_what_is_served_and_what_enables_more(cli: Cli) -> None:
    code, out, _ = cli("node", "--help", data_dir=False)
    text = " ".join(out.split())
    assert code == 0
    for words in ("--dev", "evm_mine", "--allow-host", "--cors-origin", "--max-response-bytes", "DNS rebinding",
                  "requests from web pages are refused"):
        assert words in text, words


def test_node_refuses_exposure_settings_that_mean_nothing(cli: Cli) -> None:
    code, _, err = cli("node", "--cors-origin", "localhost:3000", "--port", "0")
    line = one_line(err)
    assert code == 1 and line.startswith("dataseal: error: 'localhost:3000' is not a web origin: give the scheme")
    assert line.endswith("[--cors-origin URL]")
    assert not cli.data_dir.exists()
