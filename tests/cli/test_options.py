"""What the commands share: settings from the options given, and amounts for people."""
from __future__ import annotations

from pathlib import Path

import pytest

from dataseal.cli.options import eth, settings
from dataseal.errors import ConfigError


def test_options_not_given_leave_the_environment_in_charge(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATASEAL_DATA_DIR", "/from/env")
    assert settings(data_dir=None).data_dir == Path("/from/env")
    assert settings(data_dir=Path("/given")).data_dir == Path("/given")
    with pytest.raises(ConfigError, match="invalid setting: chain_id"):
        settings(chain_id=0)


def test_wei_for_people() -> None:
    assert eth(10**18) == "1 ETH"
    assert eth(1_500_000_000_000_000_000) == "1.5 ETH"
    assert eth(0) == "0 ETH"
    assert eth(123) == "0 ETH"  # below a millionth of an ether; --json keeps the exact wei
