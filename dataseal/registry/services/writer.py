"""What every asset write needs: the signing writer (deployment, sender, contracts, outbox), the chain's record of an
asset, the error and the clock the asset services share."""
from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from eth_utils import event_abi_to_log_topic
from web3 import Web3

from dataseal.chain.accounts.passwords import PasswordSource
from dataseal.chain.contracts.artifacts import load_artifact
from dataseal.chain.contracts.deployed import DatasealContracts
from dataseal.chain.contracts.deployment import Deployment
from dataseal.chain.contracts.records import (
    Asset,
    AssetStatus,
)
from dataseal.chain.contracts.revert import format_time
from dataseal.chain.errors import ContractRevert
from dataseal.chain.sending.sender import LocalSender
from dataseal.errors import DatasealError, ErrorKind, InvalidInput, NotFound
from dataseal.registry.outbox import Hook, Outbox
from dataseal.registry.registry import Registry


class RegistrationError(DatasealError):
    """A registration, version, cancellation or review cannot be made as asked."""

    kind = ErrorKind.CONFLICT


@dataclass(frozen=True)
class Clock:
    """Time as the services see it: ``now()`` in unix seconds and ``sleep(seconds)``. Tests pass a chain's clock
    (``sleep`` moves the chain's time) so that nothing waits for real."""

    now: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep


def status_name(status: AssetStatus) -> str:
    return status.name.rstrip("_")


@dataclass
class Writer:
    """What a write needs: the deployment, the signing sender, the contracts writing through it, the outbox."""

    registry: Registry
    deployment: Deployment
    sender: LocalSender
    contracts: DatasealContracts
    outbox: Outbox

    @property
    def w3(self) -> Web3:
        return self.registry.context.connection.w3

    @property
    def me(self) -> str:
        return self.sender.address

    def key(self, *parts: object) -> str:
        """An outbox key: the parts, the chain and the AssetRegistry's address."""
        head, *rest = parts
        return ":".join(str(p) for p in (head, self.deployment.chain_id, self.deployment.asset_registry, *rest))

    def latest_timestamp(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])


def open_writer(registry: Registry, passwords: Sequence[PasswordSource], hook: Hook | None,
                acting: Callable[[], Iterable[str]] | None = None) -> Writer:
    """Connect, check the deployment, unlock the signing account (when the keystore holds several and the
    settings name none: the one of ``acting()``, the accounts that can act here); then (only then) open the
    database."""
    context = registry.context
    deployment = context.deployment()
    sender = context.sender(context.unlock(*passwords, acting=acting))
    contracts = context.contracts(sender)
    outbox = Outbox(registry.db, context.connection.w3, sender, chain_id=deployment.chain_id, hook=hook)
    return Writer(registry, deployment, sender, contracts, outbox)


def owner_of(registry: Registry, asset_id: int) -> Callable[[], list[str]]:
    """The accounts that act for ``asset_id`` as its owner (read when asked: see :func:`open_writer`)."""
    return lambda: [read_asset(registry.context.contracts(), asset_id).owner]


def reviewers_held(registry: Registry) -> Callable[[], list[str]]:
    """The keystore's accounts that hold the REVIEWER role (read when asked)."""
    def read() -> list[str]:
        client = registry.context.contracts().registry
        return [entry.address for entry in registry.context.keystore.list() if client.is_reviewer(entry.address)]
    return read


def admin_of(registry: Registry) -> Callable[[], list[str]]:
    """The account that holds the AssetRegistry's admin role."""
    return lambda: [registry.context.contracts().registry.admin()]


def read_asset(contracts: DatasealContracts, asset_id: int) -> Asset:
    """The chain's record of ``asset_id``; :class:`NotFound` when there is none."""
    check_asset_id(asset_id)
    try:
        return contracts.registry.asset(asset_id)
    except ContractRevert as exc:
        if exc.name == "UnknownAsset":
            raise NotFound(f"no asset {asset_id} on chain {contracts.deployment.chain_id} (AssetRegistry at "
                           f"{contracts.deployment.asset_registry}; {contracts.registry.total_assets()} registered)",
                           hint="check the asset id and the chain you are connected to",
                           options=("rpc_url",)) from None
        raise


def check_asset_id(asset_id: int) -> None:
    if isinstance(asset_id, bool) or not isinstance(asset_id, int) or not 1 <= asset_id < 2**256:
        raise InvalidInput(f"an asset id is a whole number from 1, got {asset_id!r}",
                           hint="give the id the registration printed")


@functools.cache
def event_topic(name: str) -> bytes:
    """topic0 of AssetRegistry's event ``name``."""
    abi = next(item for item in load_artifact("AssetRegistry").abi
               if item.get("type") == "event" and item.get("name") == name)
    return bytes(event_abi_to_log_topic(abi))  # type: ignore[arg-type]


def at_moment(hook: Hook | None, moment: str) -> None:
    if hook is not None:
        hook(moment)


def when_active(asset: Asset) -> str:
    if asset.status == AssetStatus.Pending and asset.notice_ends_at:
        return f"it becomes Active by itself when its notice ends, at {format_time(asset.notice_ends_at)}"
    return ""
