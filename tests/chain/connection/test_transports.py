"""Transports: URLs checked, and their secrets kept out of every message."""
from __future__ import annotations

import pytest

from dataseal.chain.connection.transports import provider_for_url, redact_url, scrub_url
from dataseal.errors import ConfigError


def test_urls_are_checked_and_redacted() -> None:
    with pytest.raises(ConfigError, match=r"unsupported RPC URL 'ftp://node:1'.*http://127.0.0.1:8545"):
        provider_for_url("ftp://node:1")
    for hostless in ("http://", "ws://:8545"):
        with pytest.raises(ConfigError, match="it names no host") as exc:
            provider_for_url(hostless)
        assert exc.value.options == ("rpc_url",)
    assert redact_url("https://user:secret@mainnet.infura.io/v3/0123456789abcdef0123456789abcdef?k=1") == (
        "https://mainnet.infura.io/v3/01234567…"
    )
    assert redact_url("http://127.0.0.1:8545") == "http://127.0.0.1:8545"


def test_redaction_helpers() -> None:
    assert redact_url("http://[::1]:8545/") == "http://[::1]:8545/"
    assert redact_url("https://u:p@host/v3/0123456789abcdef0123456789?k=1") == "https://host/v3/01234567…"
    text = "failed for url: https://u:pass@host/v3/0123456789abcdef0123456789?apikey=SECRET!"
    scrubbed = scrub_url(text, "https://u:pass@host/v3/0123456789abcdef0123456789?apikey=SECRET")
    assert "pass" not in scrubbed and "SECRET" not in scrubbed and "host" in scrubbed
