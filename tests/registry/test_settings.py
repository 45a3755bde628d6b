"""Settings: from the environment, values given on top, and one clear error for a bad value."""
from __future__ import annotations

from pathlib import Path

import pytest

from dataseal.errors import ConfigError
from dataseal.registry.settings import Settings


def test_given_values_override_the_environment_and_none_means_not_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATASEAL_RPC_URL", "http://from-env:8545")
    monkeypatch.setenv("DATASEAL_CONFIRMATIONS", "3")
    settings = Settings.load(rpc_url=None, confirmations=1, data_dir=Path("/srv/dataseal"))
    assert settings.rpc_url == "http://from-env:8545"
    assert settings.confirmations == 1 and settings.data_dir == Path("/srv/dataseal")
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/dataseal")
    assert Settings.load().effective_database_url() == "postgresql://db/dataseal"


def test_a_bad_value_names_the_setting_and_never_echoes_a_password(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError) as bad:
        Settings.load(confirmations=-1, receipt_timeout=0)
    assert bad.value.message.startswith("invalid setting: confirmations: ")
    assert "receipt_timeout: " in bad.value.message and "(got -1)" in bad.value.message
    assert bad.value.options == ("confirmations", "receipt_timeout")
    monkeypatch.setenv("DATASEAL_PASSWORD", "")
    with pytest.raises(ConfigError) as secret:
        Settings.load(password=["hunter2"])
    assert "hunter2" not in str(secret.value) and "(got ***)" in str(secret.value)
