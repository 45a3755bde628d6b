"""The one wiring point: settings in, the chain's parts out.

A front door (the CLI now, the HTTP API next) reads :class:`~dataseal.registry.settings.Settings`
and opens a :class:`Context`; everything it needs of the chain comes from there, built the same
way for every caller:

- the connection: ``rpc_url`` if set, else the `dataseal node` serving the data folder (found
  through its ``node.json``), else the embedded chain of the data folder opened in this process;
  refused if it is not chain ``chain_id`` (when set);
- the deployment: the data folder's record for the node's chain, checked to be live on it;
- the signing account: the keystore's account named by ``account`` (or its only one), unlocked
  with the password from the sources the settings name, else the password the embedded node
  generated, else the sources the front door adds (the CLI's terminal prompt);
- the sender: a local signer whose nonces are shared with the other senders of the account: through the
  registry database when the context belongs to a :class:`~dataseal.registry.registry.Registry` (every
  process and replica using that database, see :mod:`dataseal.registry.db.nonces`), else through files in
  the data folder (the other dataseal processes of that folder);
- the contract clients, reading, or writing through that sender.

Nothing connects before :meth:`Context.open` is called.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from eth_account.signers.local import LocalAccount

from dataseal.cached import require_io
from dataseal.chain.accounts.keystore import (
    AccountNotFound,
    Keystore,
    KeystoreEntry,
    KeystoreError,
    WrongPassword,
    keystore_dir,
)
from dataseal.chain.accounts.passwords import PasswordFile, PasswordSource, first_password, given_sources
from dataseal.chain.connection import ChainInfo, Connection, connect
from dataseal.chain.contracts.deploy import deploy_contracts
from dataseal.chain.contracts.deployed import DatasealContracts
from dataseal.chain.contracts.deployment import (
    ContractConfig,
    ContractStatus,
    Deployment,
    commitments_by_default,
    contract_status,
    deployments_path,
    get_deployment,
    live_deployment,
    load_deployments,
    save_deployment,
    verify_deployment,
)
from dataseal.chain.contracts.reads import DEFAULT_MAX_AGE, HeadReads
from dataseal.chain.contracts.revert import decode_revert
from dataseal.chain.errors import DeploymentError, OutdatedDeployment, WrongChain
from dataseal.chain.node.layout import OPERATOR_PASSWORD_FILENAME, running_node_url
from dataseal.chain.sending.nonces import FileNonceStore, NonceManager, NonceStore
from dataseal.chain.sending.sender import LocalSender, TxSender
from dataseal.errors import DatasealError, ErrorKind
from dataseal.registry.settings import Settings

NONCES_DIRNAME = "nonces"  # <data_dir>/nonces: the next nonce of each account, shared by processes


@dataclass(frozen=True)
class AccountBalance:
    """A keystore account and what it holds on the chain."""

    entry: KeystoreEntry
    balance_wei: int


@dataclass(frozen=True)
class ChainStatus:
    """What :meth:`Context.status` found: the chain, the accounts, the deployment and its contracts, and
    what is wrong (the report is whole even then)."""

    endpoint: str
    chain: ChainInfo
    accounts: list[AccountBalance]
    deployment: Deployment | None
    contracts: list[ContractStatus]
    record: Path
    problems: list[DatasealError] = field(default_factory=list)
    #: Whether ``contracts`` are those of a record from before contracts v2 (``deployment`` is None then).
    pre_v2: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Deployed:
    """What :meth:`Context.deploy` did: the new deployment, where it is recorded, and the record it replaced
    (``replaced`` when this dataseal could read it). ``replaced_contracts`` names the replaced set when it still
    has code on the chain (a record from before contracts v2 included): the registrations made under it stay
    there. ``gone_contracts`` names it instead when none of its contracts has code any more (a reset chain)."""

    deployment: Deployment
    record: Path
    replaced: Deployment | None
    replaced_contracts: dict[str, str] = field(default_factory=dict)
    gone_contracts: dict[str, str] = field(default_factory=dict)


def keystore_of(settings: Settings) -> Keystore:
    """The keystore of the settings' data folder (no connection needed)."""
    return Keystore(keystore_dir(settings.data_dir))


def signing_entry(settings: Settings, acting: Callable[[], Iterable[str]] | None = None) -> KeystoreEntry:
    """The keystore account the settings name (``account``), or the keystore's only one; when it holds several
    and ``acting`` is given, the one among them that can act here (``acting()``: the addresses that can, such as
    the asset's owner for a grant, the grantee for its usage). Several or none of them: the keystore says which it
    holds, and which of them can act."""
    keystore = keystore_of(settings)
    if settings.account:
        return keystore.find(settings.account)
    entries = keystore.list()
    if len(entries) <= 1 or acting is None:
        return keystore.default()
    can = {address.lower(): address for address in acting()}
    able = [entry for entry in entries if entry.address.lower() in can]
    if len(able) == 1:
        return able[0]
    held = ", ".join(entry.address for entry in entries)
    which = ("none of them can act here (it takes " + " or ".join(sorted(can.values())) + ")" if not able and can
             else "none of them can act here" if not able
             else f"{len(able)} of them can act here ({', '.join(e.address for e in able)})")
    raise KeystoreError(f"the keystore {keystore.folder} holds {len(entries)} accounts ({held}), and {which}",
                        hint="choose the account to sign with", options=("account",))


def deploy_target(settings: Settings) -> str:
    """The node a deployment goes to: the settings' RPC URL. Without one there is none (the embedded
    chain deploys its own contracts when its node first starts), so check before connecting."""
    if not settings.rpc_url:
        raise DeploymentError("no node to deploy to", hint="name the node's URL (the embedded chain deploys its "
                              "own contracts when its node first starts)", options=("rpc_url",))
    return settings.rpc_url


class Context:
    """The chain's parts for one set of settings; open with :meth:`open`, close when done."""

    def __init__(self, settings: Settings, connection: Connection, *, nonces: NonceStore | None = None) -> None:
        self.settings = settings
        self.connection = connection
        #: Where the senders' nonces are kept: ``nonces`` (the registry database's), else files in the data folder.
        self.nonces: NonceStore = nonces if nonces is not None else FileNonceStore(
            Path(settings.data_dir) / NONCES_DIRNAME)
        self._deployment: Deployment | None = None
        self._readers: DatasealContracts | None = None
        self._head_reads: HeadReads | None = None
        self._head_readers: DatasealContracts | None = None

    @classmethod
    def open(cls, settings: Settings, *, nonces: NonceStore | None = None) -> Context:
        """Connect to the settings' chain (see the module documentation) and check it answers; the senders keep
        their nonces in ``nonces`` (files in the data folder when None)."""
        target: str | Path = settings.rpc_url or running_node_url(settings.data_dir) or Path(settings.data_dir)
        return cls(settings, connect(target, timeout=settings.rpc_timeout, expected_chain_id=settings.chain_id),
                   nonces=nonces)

    def signing_as(self, address: str) -> Context:
        """This context (its connection and nonces) with ``address`` as the settings' account."""
        return Context(self.settings.model_copy(update={"account": address}), self.connection, nonces=self.nonces)

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> Context:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Context({self.connection.endpoint!r}, data_dir={str(self.settings.data_dir)!r})"

    @property
    def data_dir(self) -> Path:
        return Path(self.settings.data_dir)

    @property
    def keystore(self) -> Keystore:
        return keystore_of(self.settings)

    # ----------------------------------------------------------------------------- contracts

    def deployment(self) -> Deployment:
        """The data folder's deployment for this chain, checked live on the node (once per context)."""
        if self._deployment is None:
            require_io("the deployment")
            self._deployment = live_deployment(self.connection, self.data_dir)
        return self._deployment

    def recorded_deployment(self) -> Deployment | None:
        """The data folder's record for this chain, whether or not the node has the contracts (or they are this
        dataseal's); None also when the entry predates contracts v2."""
        return load_deployments(self.data_dir).get(self.connection.chain_id)

    def contracts(self, sender: TxSender | None = None) -> DatasealContracts:
        """The clients of the live deployment; they write through ``sender`` (read-only without one, made once)."""
        if sender is not None:
            return DatasealContracts.bind(self.connection.w3, self.deployment(), sender)
        if self._readers is None:
            self._readers = DatasealContracts.bind(self.connection.w3, self.deployment())
        return self._readers

    def head_contracts(self, *, max_age: float = DEFAULT_MAX_AGE) -> DatasealContracts:
        """Read-only clients whose calls are pinned to the head and answered once per head, at most ``max_age``
        seconds behind it (:mod:`~dataseal.chain.contracts.reads`): for a service's many readers, not for a write
        that reads what it wrote. Made once; :meth:`head_moved` makes them ask for the head again."""
        if self._head_readers is None:
            require_io("the head-pinned contract clients")
            reads = HeadReads(self.connection.w3, max_age=max_age)
            self._head_readers = DatasealContracts.bind(self.connection.w3, self.deployment(), reads=reads)
            self._head_reads = reads
        return self._head_readers

    def head_moved(self) -> None:
        """This service's write was mined: the head-pinned readers ask for the head at their next call."""
        if self._head_reads is not None:
            self._head_reads.invalidate()

    # ----------------------------------------------------------------------------- signing

    def unlock(self, *more: PasswordSource, acting: Callable[[], Iterable[str]] | None = None) -> LocalAccount:
        """The signing account (:func:`signing_entry`, with ``acting``), decrypted with the first password found.

        Sources, in order: the settings' password file, else their password (``DATASEAL_PASSWORD``);
        when they name none, the password `dataseal node` generated in the data folder (it opens the
        node's operator; for another account the search goes on); then ``more`` (a front door's own,
        such as a terminal prompt).
        """
        entry = signing_entry(self.settings, acting)
        purpose = f"account {entry.address}"
        given = given_sources(self.settings.password, self.settings.password_file)
        if given:
            secret, _ = first_password([*given, *more], purpose=purpose)
            return self.keystore.unlock(str(entry.path), secret)
        generated = PasswordFile(self.data_dir / OPERATOR_PASSWORD_FILENAME, optional=True)
        operator_secret = generated.read(purpose)
        if operator_secret is not None:
            try:
                return self.keystore.unlock(str(entry.path), operator_secret)
            except WrongPassword:
                if not more:
                    raise WrongPassword(
                        f"the password in {generated.path} (the embedded node's operator) does not open "
                        f"{entry.path.name}", hint=f"give the password of {entry.address}", options=("password",),
                    ) from None
        # (the generated file is listed only when it is missing: it then says it was tried)
        secret, _ = first_password([*more] if operator_secret is not None else [generated, *more], purpose=purpose)
        return self.keystore.unlock(str(entry.path), secret)

    def sender(self, account: LocalAccount) -> LocalSender:
        """A local signer for ``account`` on this chain, sharing nonces through :attr:`nonces`."""
        return LocalSender(
            account,
            nonces=NonceManager(self.nonces),
            confirmations=self.settings.confirmations,
            receipt_timeout=self.settings.receipt_timeout,
            endpoint=self.connection.endpoint,
            decode_revert=decode_revert,
        )

    # ----------------------------------------------------------------------------- services

    def status(self) -> ChainStatus:
        """The chain, the keystore's accounts (or the settings' one) with their balances, the deployment
        and whether its contracts are live; problems are collected, not raised."""
        connection = self.connection
        problems: list[DatasealError] = []
        entries = [self.keystore.find(self.settings.account)] if self.settings.account else self.keystore.list()
        accounts = [AccountBalance(entry, connection.balance(entry.address)) for entry in entries]
        deployment: Deployment | None
        pre_v2: dict[str, str] = {}
        try:
            deployment = self.deployment()
        except (WrongChain, DeploymentError) as exc:  # not deployed, stale or pre-v2, or a damaged record
            problems.append(exc)
            try:
                deployment = self.recorded_deployment()
            except DeploymentError:  # the damaged record, already listed
                deployment = None
            if deployment is None and isinstance(exc, OutdatedDeployment):  # from before v2: where it was
                pre_v2 = exc.addresses
        contracts = contract_status(connection, deployment if deployment is not None else pre_v2)
        if not accounts:
            problems.append(AccountNotFound(f"no account in {self.keystore.folder}", hint="create or import one"))
        return ChainStatus(connection.endpoint, connection.info(), accounts, deployment, contracts,
                           deployments_path(self.data_dir), problems, pre_v2=bool(pre_v2))

    def deploy(
        self,
        *,
        admin: str | None = None,
        config: ContractConfig | None = None,
        base_token_uri: str = "",
        force: bool = False,
        passwords: Sequence[PasswordSource] = (),
        starting: Callable[[str, int], None] | None = None,
    ) -> Deployed:
        """Deploy the three contracts from the signing account and record them in the data folder.

        Refused without an RPC URL (the embedded chain deploys its own when its node first starts), and
        when the record already has live contracts on this chain unless ``force``. Contracts this dataseal
        cannot use (from before contracts v2, or of other code) are replaced without ``force`` on a local
        development chain (:data:`DEVELOPMENT_CHAIN_IDS`); elsewhere their registrations are somebody's, and
        since they stay in the old contracts (the new set does not see them) replacing them needs ``force``
        too. ``passwords`` are the front door's own sources (see :meth:`unlock`); ``starting(address,
        balance)`` is told who pays, before anything is sent.
        """
        deploy_target(self.settings)
        connection = self.connection
        path = deployments_path(self.data_dir)
        outdated: OutdatedDeployment | None = None
        try:
            existing = get_deployment(self.data_dir, connection.chain_id)
        except OutdatedDeployment as exc:  # from before contracts v2
            existing, outdated = None, exc
        replaced = existing.addresses() if existing is not None else (outdated.addresses if outdated else {})
        live = any(s.deployed for s in contract_status(connection, replaced))
        if existing is not None and not force and live and not existing.stale_code():
            raise DeploymentError(
                f"already deployed on chain {connection.chain_id}: {path} has "
                f"AssetRegistry at {existing.asset_registry} (block {existing.deploy_block}) and its code is there",
                hint="use those contracts, or deploy a new set anyway (the record will then point to the new one)",
                options=("force",), kind=ErrorKind.CONFLICT,
            )
        if replaced and live and not force and commitments_by_default(connection.chain_id):
            which = "from before contracts v2" if outdated is not None else "of other code than this dataseal's"
            raise DeploymentError(
                f"outdated contracts on chain {connection.chain_id}: {path} names contracts {which} (AssetRegistry at "
                f"{replaced.get('AssetRegistry', 'an unrecorded address')}), and its registrations stay there: a new "
                "set would start empty, and this dataseal would no longer see them",
                hint="deploy a new set anyway if its registrants know (they register again under the new set), or "
                "keep using those contracts with the dataseal version that deployed them",
                options=("force",), kind=ErrorKind.CONFLICT,
            )
        account = self.unlock(*passwords)
        if starting is not None:
            starting(account.address, connection.balance(account.address))
        deployment = deploy_contracts(connection.w3, self.sender(account), admin=admin, config=config,
                                      base_token_uri=base_token_uri)
        verify_deployment(connection, deployment, source="the new deployment")
        self._deployment = deployment
        return Deployed(deployment, save_deployment(self.data_dir, deployment), existing,
                        replaced if live else {}, {} if live else replaced)
