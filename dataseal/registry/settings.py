"""dataseal's settings: one pydantic-settings class, read at the front doors (cli/, api/) and
passed down. Nothing here connects to anything."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from pydantic import AliasChoices, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from dataseal.errors import ConfigError

#: Where the registry's public pages are served unless told otherwise.
DEFAULT_BASE_URL: Final = "http://127.0.0.1:8000"


class Settings(BaseSettings):
    """Every knob, from the environment (DATASEAL_*) or explicit arguments."""

    model_config = SettingsConfigDict(env_prefix="DATASEAL_", extra="ignore", frozen=True)

    data_dir: Path = Field(Path(".dataseal"), description="Folder of the embedded chain, keystore and SQLite DB.")
    rpc_url: str | None = Field(
        None, description="JSON-RPC endpoint of a real node (http, https, ws); unset = the embedded chain."
    )
    database_url: str | None = Field(
        None,
        validation_alias=AliasChoices("DATABASE_URL", "DATASEAL_DATABASE_URL"),
        description="SQLAlchemy URL of the registry DB; unset = SQLite in the data folder.",
    )
    account: str | None = Field(None, description="Address (or keystore file) of the account that signs.")
    password_file: Path | None = Field(None, description="File holding the keystore password.")
    password: SecretStr | None = Field(None, description="Keystore password (prefer password_file).")
    api_secret: SecretStr | None = Field(
        None, min_length=16, description="The HTTP API's secret for its ownership challenges: the replicas of one "
        "service give the same one (a challenge one issued, another accepts); unset = a random one kept in "
        "<data_dir>/api.secret.",
    )
    confirmations: int = Field(0, ge=0, description="Blocks to wait on top of a transaction's block.")
    chain_id: int | None = Field(
        None, gt=0, description="Refuse to talk to any other chain (a guard against pointing at the wrong network)."
    )
    receipt_timeout: float = Field(120.0, gt=0, description="Seconds to wait for a transaction's receipt.")
    rpc_timeout: float = Field(30.0, gt=0, description="Seconds to wait for one JSON-RPC answer.")
    base_url: str = Field(
        DEFAULT_BASE_URL, description="Where the registry's public pages are served: certificates are issued with QR "
        "codes that open {base_url}/assets/ID?cert=NUMBER, and verified against it.",
    )

    @classmethod
    def load(cls, **given: Any) -> Settings:
        """Settings from the environment, with the values ``given`` on top (None: not given).

        An invalid value raises :class:`ConfigError` naming the setting (never echoing a password),
        with the settings at fault as its ``options``.
        """
        try:
            return cls(**{key: value for key, value in given.items() if value is not None})
        except ValidationError as exc:
            names: list[str] = []

            def shown(error: Any) -> str:
                name = ".".join(str(part) for part in error["loc"]) or "settings"
                names.append(name)
                secret = "password" in name or "secret" in name
                value = "***" if secret else repr(error.get("input"))  # never echo a secret
                return f"{name}: {error['msg']} (got {value})"

            problems = "; ".join(shown(error) for error in exc.errors())
            raise ConfigError(f"invalid setting: {problems}", hint="give a valid value for each setting named",
                              options=tuple(dict.fromkeys(names))) from None

    def sqlite_url(self) -> str:
        return f"sqlite:///{(self.data_dir / 'registry.sqlite').resolve()}"

    def effective_database_url(self) -> str:
        return self.database_url or self.sqlite_url()
