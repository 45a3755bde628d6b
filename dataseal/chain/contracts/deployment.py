"""Where dataseal's contracts live on one chain (:class:`Deployment`), the record of it a data folder
keeps, and whether a node has them.

The record is one JSON file, ``<data_dir>/deployments.json``, mapping a chain id (as a string) to
:meth:`Deployment.to_json`. Writes take a lock beside the file and replace it atomically (temp file
+ ``os.replace``), so a reader never sees half a file and two writers for different chains do not
lose each other's entry.

An entry written by a dataseal from before contracts v2 (no ``config``) names contracts this dataseal cannot
use: it is refused (:class:`OutdatedDeployment`) when its chain is asked for, left out of
:func:`load_deployments`, kept as it is when another chain's entry is written, and replaced by the next
deployment to its chain. A record whose contracts are not the shipped code (:meth:`Deployment.stale_code`) is
readable (``dataseal status`` shows it) but refused where it is used against a node (:func:`verify_deployment`).
``code`` (each contract's :attr:`~dataseal.chain.contracts.artifacts.Artifact.code_sha256`: its runtime code
without the metadata trailer, so a comment-only rebuild keeps it) is what is compared; a record without ``code``
but with ``artifacts`` (the sha256 of each artifact file, which changes with the compiler's metadata hash on any
comment edit; such records come from development builds only) is compared by those; a record with neither is not
checked. An ``interfaces`` key (ABI digests, written by development builds) is ignored.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address

from dataseal.chain.connection import Connection
from dataseal.chain.contracts.artifacts import CONTRACT_NAMES, load_artifact
from dataseal.chain.embedded.defaults import DEFAULT_CHAIN_ID
from dataseal.chain.errors import ContractsNotDeployed, DeploymentError, OutdatedDeployment, WrongChain
from dataseal.chain.files import file_lock, write_atomic
from dataseal.errors import ErrorKind

#: Seconds a new AssetRegistry admin waits before accepting the role, unless a deployment says otherwise.
DEFAULT_ADMIN_DELAY = 86_400
#: ENS's registrar bounds: a commitment is revealed one minute to one day after it was made.
DEFAULT_MIN_COMMIT_AGE = 60
DEFAULT_MAX_COMMIT_AGE = 86_400
#: Shanghai's public notice period for data-asset registrations (15 days).
DEFAULT_NOTICE_PERIOD = 15 * 86_400
#: Chains of one local block producer and no public mempool: hardhat and anvil (31337), the older local
#: default (1337), and dataseal's embedded chain. Nobody watches their pending transactions to copy a root.
DEVELOPMENT_CHAIN_IDS = frozenset({31337, 1337, DEFAULT_CHAIN_ID})
#: What to do about a record whose contracts are not this dataseal's (no CLI flag: the front door adds those).
REDEPLOY_HINT = ("deploy the contracts again: the record will then point to the new set, and the registrations "
                 "made under the old contracts stay there; on the embedded chain, restarting its node deploys them")
_UINT32_MAX = 2**32 - 1
_UINT48_MAX = 2**48 - 1


@dataclass(frozen=True)
class ContractConfig:
    """The AssetRegistry's deployment constants (IAssetRegistry.Config), fixed for the contract's life.

    ``notice_period`` > 0 turns review on: each registration is public for that many seconds, during
    which anyone may object; ``max_commit_age`` > 0 requires registrations to reveal a commitment made
    ``min_commit_age`` to ``max_commit_age`` seconds earlier (against front-running).
    """

    notice_period: int = 0
    min_commit_age: int = 0
    max_commit_age: int = 0
    admin_delay: int = DEFAULT_ADMIN_DELAY

    def __post_init__(self) -> None:
        for name, limit in (("notice_period", _UINT32_MAX), ("min_commit_age", _UINT32_MAX),
                            ("max_commit_age", _UINT32_MAX), ("admin_delay", _UINT48_MAX)):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= limit:
                raise DeploymentError(f"{name.replace('_', ' ')} must be a whole number of seconds from 0 to {limit}, "
                                      f"got {value!r}", hint="give a number of seconds", kind=ErrorKind.INVALID_INPUT)
        if self.max_commit_age and not 0 < self.min_commit_age < self.max_commit_age:
            raise DeploymentError(
                f"the commitment ages must satisfy 0 < minimum < maximum, got minimum {self.min_commit_age} s and "
                f"maximum {self.max_commit_age} s",
                hint="a minimum of at least one block time (e.g. 60 s) and a maximum above it (e.g. one day)",
                kind=ErrorKind.INVALID_INPUT)
        if not self.max_commit_age and self.min_commit_age:
            raise DeploymentError(f"a minimum commitment age ({self.min_commit_age} s) needs a maximum",
                                  hint="give both ages, or neither to deploy without commitments",
                                  kind=ErrorKind.INVALID_INPUT)

    @classmethod
    def with_commits(cls, *, notice_period: int = 0, admin_delay: int = DEFAULT_ADMIN_DELAY) -> ContractConfig:
        """Commitments required with ENS's ages (one minute to one day)."""
        return cls(notice_period, DEFAULT_MIN_COMMIT_AGE, DEFAULT_MAX_COMMIT_AGE, admin_delay)

    @property
    def review_mode(self) -> bool:
        return self.notice_period > 0

    @property
    def commit_required(self) -> bool:
        return self.max_commit_age > 0

    def as_tuple(self) -> tuple[int, int, int, int]:
        """The constructor's Config tuple (adminDelay, noticePeriod, minCommitAge, maxCommitAge)."""
        return (self.admin_delay, self.notice_period, self.min_commit_age, self.max_commit_age)


def commitments_by_default(chain_id: int) -> bool:
    """Whether a deployment to ``chain_id`` requires commitments unless told otherwise: on every chain but a
    local development chain (:data:`DEVELOPMENT_CHAIN_IDS`), where no one can front-run a registration."""
    return int(chain_id) not in DEVELOPMENT_CHAIN_IDS


@dataclass(frozen=True)
class Deployment:
    """Where dataseal's contracts live on one chain, and the registry's deployment constants."""

    chain_id: int
    asset_registry: str
    grant_registry: str
    transaction_ledger: str
    deploy_block: int
    deployer: str
    config: ContractConfig = field(default_factory=ContractConfig)
    artifacts: dict[str, str] = field(default_factory=dict)  # contract name -> artifact file sha256
    code: dict[str, str] = field(default_factory=dict)  # contract name -> Artifact.code_sha256 (checked)

    @property
    def review_mode(self) -> bool:
        return self.config.review_mode

    @property
    def commit_required(self) -> bool:
        return self.config.commit_required

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["review_mode"] = self.review_mode  # for people reading the file; derived from config
        out["commit_required"] = self.commit_required
        return out

    @classmethod
    def from_json(cls, data: Any) -> Deployment:
        """The deployment that :meth:`to_json` produced; raises :class:`DeploymentError` when malformed.

        Keys this version does not know are ignored (a newer dataseal may have written them; ``interfaces``, the
        ABI digests of development builds, among them). A record
        without ``config`` predates contracts v2 (it has ``review_mode`` instead): its contracts are the v1
        ones, which this dataseal cannot use, and it is refused with :class:`OutdatedDeployment`.
        """
        if not isinstance(data, dict):
            raise DeploymentError(f"a deployment record must be a JSON object, got {type(data).__name__}",
                                  hint="deploy again")
        known = {f.name: f for f in fields(cls)}
        missing = [
            name for name, f in known.items()
            if name not in data and f.default is MISSING and f.default_factory is MISSING
        ]
        if missing:
            raise DeploymentError(f"the deployment record lacks {', '.join(missing)}", hint="deploy again")
        if "config" not in data:
            recorded = {name: data[key] for name, key in _ADDRESS_KEYS.items() if isinstance(data.get(key), str)}
            at = f" (AssetRegistry at {recorded['AssetRegistry']})" if "AssetRegistry" in recorded else ""
            raise OutdatedDeployment(
                f"the deployment record predates contracts v2 (it has no config): its contracts{at} are the v1 "
                "ones, which this version of dataseal cannot use", hint=REDEPLOY_HINT, addresses=recorded)
        values = {name: data[name] for name in known if name in data}
        try:
            for name in ("chain_id", "deploy_block"):
                if not isinstance(values[name], int) or isinstance(values[name], bool):
                    raise ValueError(f"{name} must be an integer, got {values[name]!r}")
            for name in ("asset_registry", "grant_registry", "transaction_ledger", "deployer"):
                values[name] = to_checksum_address(values[name])
            config = values.get("config", {})
            if not isinstance(config, dict):
                raise ValueError(f"config must be an object, got {config!r}")
            unknown = set(config) - {f.name for f in fields(ContractConfig)}
            if unknown:
                raise ValueError(f"config has unknown keys {sorted(unknown)}")
            try:
                values["config"] = ContractConfig(**config)
            except DeploymentError as exc:
                raise ValueError(exc.message) from None
            for name in ("artifacts", "code"):
                digests = values.get(name, {})
                if not isinstance(digests, dict) or not all(isinstance(v, str) for v in digests.values()):
                    raise ValueError(f"{name} must map contract names to sha256 digests")
        except (ValueError, TypeError) as exc:
            raise DeploymentError(f"the deployment record is malformed: {exc}", hint="deploy again") from None
        return cls(**values)

    def addresses(self) -> dict[str, str]:
        """Contract name -> address."""
        return {
            "AssetRegistry": self.asset_registry,
            "GrantRegistry": self.grant_registry,
            "TransactionLedger": self.transaction_ledger,
        }

    def stale_code(self) -> list[str]:
        """The contracts whose recorded code is not the shipped one's (or is missing from one side); empty when
        they all match, or when the record names no code (nothing to compare).

        ``code`` is compared when the record has it: a rebuild that changes only comments changes the compiler's
        metadata hash, not the code. A record without it but with ``artifacts`` (from a development build) is
        compared by the whole artifact files' sha256, metadata hash included.
        """
        if self.code:
            recorded, shipped = self.code, {name: load_artifact(name).code_sha256 for name in CONTRACT_NAMES}
        elif self.artifacts:
            recorded, shipped = self.artifacts, {name: load_artifact(name).sha256 for name in CONTRACT_NAMES}
        else:
            return []
        return sorted(name for name in shipped.keys() | recorded.keys() if recorded.get(name) != shipped.get(name))


#: Contract name -> the key of its address in a deployment record (v1 and v2 alike).
_ADDRESS_KEYS = {"AssetRegistry": "asset_registry", "GrantRegistry": "grant_registry",
                 "TransactionLedger": "transaction_ledger"}


DEPLOYMENTS_FILENAME = "deployments.json"


class DeploymentRecordError(DeploymentError):
    """The deployment record file cannot be read or written."""


def deployments_path(data_dir: Path | str) -> Path:
    """The deployment record of the data folder ``data_dir``."""
    return Path(data_dir) / DEPLOYMENTS_FILENAME


def load_deployments(data_dir: Path | str) -> dict[int, Deployment]:
    """Every usable recorded deployment by chain id; empty when the file does not exist yet.

    Entries from before contracts v2 are left out (:func:`get_deployment` names them); a malformed entry
    raises :class:`DeploymentRecordError`.
    """
    return {chain: entry for chain, entry in _read(deployments_path(data_dir)).items()
            if isinstance(entry, Deployment)}


def get_deployment(data_dir: Path | str, chain_id: int) -> Deployment | None:
    """The deployment recorded for ``chain_id``, or None; raises :class:`OutdatedDeployment` when the entry
    predates contracts v2."""
    entry = _read(deployments_path(data_dir)).get(int(chain_id))
    if isinstance(entry, OutdatedDeployment):
        raise entry
    return entry


def save_deployment(data_dir: Path | str, deployment: Deployment) -> Path:
    """Record ``deployment`` under its chain id (replacing an older one for that chain, even an entry this version
    cannot read); the other chains' entries are kept as they are. The file's path."""
    path = deployments_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(path.with_name(path.name + ".lock")):
        entries = _read_entries(path)
        entries[str(deployment.chain_id)] = deployment.to_json()
        _write(path, entries)
    return path


def remove_deployment(data_dir: Path | str, chain_id: int) -> bool:
    """Forget the deployment of ``chain_id`` (whatever its entry holds); whether there was one."""
    path = deployments_path(data_dir)
    if not path.exists():
        return False
    with file_lock(path.with_name(path.name + ".lock")):
        entries = _read_entries(path)
        if entries.pop(str(int(chain_id)), None) is None:
            return False
        _write(path, entries)
    return True


def _read(path: Path) -> dict[int, Deployment | OutdatedDeployment]:
    """Each chain's deployment, or the :class:`OutdatedDeployment` its entry is (from before contracts v2).

    A file that cannot be read, or an entry that is malformed, raises :class:`DeploymentRecordError`.
    """
    records: dict[int, Deployment | OutdatedDeployment] = {}
    for key, value in _read_entries(path).items():
        try:
            deployment = Deployment.from_json(value)
        except OutdatedDeployment as exc:
            records[int(key)] = OutdatedDeployment(f"{path}, chain {key}: {exc.message}", hint=exc.hint,
                                                   addresses=exc.addresses)
            continue
        except DeploymentError as exc:
            raise DeploymentRecordError(f"{path}, chain {key}: {exc.message}", hint=exc.hint) from None
        if deployment.chain_id != int(key):
            raise DeploymentRecordError(
                f"{path}: the entry under chain {key} says chain_id {deployment.chain_id}",
                hint="the file was edited by hand: fix the key or the chain_id",
            )
        records[int(key)] = deployment
    return records


def _read_entries(path: Path) -> dict[str, Any]:
    """The file's entries as JSON, by chain id (a decimal string); empty when there is no file."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise DeploymentRecordError(f"cannot read the deployment record {path}: {exc.strerror or exc}",
                                    hint="check that the data folder is readable by you",
                                    options=("data_dir",)) from None
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise DeploymentRecordError(f"the deployment record {path} is not valid JSON ({exc})",
                                    hint="restore it from a backup, or delete it and deploy again") from None
    if not isinstance(data, dict):
        raise DeploymentRecordError(
            f"the deployment record {path} must be a JSON object of chain id -> deployment, got {type(data).__name__}",
            hint="restore it, or delete it and deploy again",
        )
    for key in data:
        if not (key.isascii() and key.isdecimal()):
            raise DeploymentRecordError(f"the deployment record {path} has key {key!r}; expected a chain id",
                                        hint="the file was edited by hand: fix the key, or delete the file and deploy "
                                        "again")
    return data


def _write(path: Path, entries: dict[str, Any]) -> None:
    text = json.dumps({key: entries[key] for key in sorted(entries, key=int)}, indent=2, sort_keys=True) + "\n"
    write_atomic(path, text.encode("utf-8"))


@dataclass(frozen=True)
class ContractStatus:
    """Whether a recorded contract has code at its address."""

    name: str
    address: str
    code_size: int

    @property
    def deployed(self) -> bool:
        return self.code_size > 0

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "address": self.address, "code_size": self.code_size, "deployed": self.deployed}


def contract_status(connection: Connection, deployment: Deployment | Mapping[str, str]) -> list[ContractStatus]:
    """For each contract of ``deployment`` (or of a name -> address mapping, such as a pre-v2 entry's): its
    address and the size of the code there."""
    addresses = deployment.addresses() if isinstance(deployment, Deployment) else deployment
    return [ContractStatus(name, address, connection.code_size(address)) for name, address in addresses.items()]


def verify_code(deployment: Deployment, *, source: str = "the deployment record") -> None:
    """Raise :class:`OutdatedDeployment` when ``deployment`` records contract code other than the shipped code."""
    stale = deployment.stale_code()
    if stale:
        raise OutdatedDeployment(
            f"stale contracts: {source} says chain {deployment.chain_id} has contracts (AssetRegistry at "
            f"{deployment.asset_registry}) whose code is not the one this version of dataseal ships "
            f"(the code of {', '.join(stale)} differs)", hint=REDEPLOY_HINT, addresses=deployment.addresses(),
        )


def verify_deployment(connection: Connection, deployment: Deployment, *, source: str = "the deployment record") -> None:
    """Raise :class:`WrongChain`, :class:`ContractsNotDeployed` or :class:`OutdatedDeployment` unless
    ``deployment`` is live on the node and its contracts are the code this dataseal ships."""
    connection.verify_chain(deployment.chain_id, source)
    missing = [status for status in contract_status(connection, deployment) if not status.deployed]
    if missing:
        where = ", ".join(f"{s.name} at {s.address}" for s in missing)
        raise ContractsNotDeployed(
            f"contracts not deployed: {source} says chain {deployment.chain_id} has {where} (since block "
            f"{deployment.deploy_block}), but the node at {connection.endpoint} has no code there",
            hint="the chain was reset (a restarted development node?) or the record is from another network: "
            "deploy the contracts again", options=("rpc_url",),
        )
    verify_code(deployment, source=source)


def live_deployment(connection: Connection, data_dir: Path | str) -> Deployment:
    """The deployment recorded in ``data_dir`` for the node's chain, checked to be live on it and to be this
    dataseal's contracts (:func:`verify_deployment`); an entry from before contracts v2 raises
    :class:`OutdatedDeployment`."""
    path = deployments_path(data_dir)
    records = _read(path)
    deployment = records.get(connection.chain_id)
    if isinstance(deployment, OutdatedDeployment):
        raise deployment
    if deployment is None:
        if records:
            known = ", ".join(str(chain) for chain in sorted(records))
            raise WrongChain(
                f"wrong chain: the node at {connection.endpoint} is chain {connection.chain_id}, but the deployment "
                f"record {path} knows only chain {known}",
                hint=f"connect to the node you deployed on, or deploy to chain {connection.chain_id}",
                options=("rpc_url",),
            )
        raise ContractsNotDeployed(
            f"contracts not deployed: no deployment record at {path} (chain {connection.chain_id} at "
            f"{connection.endpoint})",
            hint="deploy the contracts to this node, or use the data folder that holds the record",
            options=("rpc_url", "data_dir"),
        )
    verify_deployment(connection, deployment, source=f"the deployment record {path}")
    return deployment
