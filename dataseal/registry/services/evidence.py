"""Evidence bundles: a proof of one part of registered data with the on-chain record of its registration, and
the check of a bundle against any RPC endpoint (no data folder, no database).

- :func:`prove` proves a chunk, row or file (:func:`dataseal.registry.sealing.seal.prove`) and, when the data's
  root is registered, bundles the proof with the manifest and the registration as the chain's logs record it
  (:class:`~dataseal.registry.evidence.ChainRecord`); with a grant, also the proof that the part lies inside
  the grant's scope (:func:`prove_grant_scope`: the scope root read from the grant on chain, its indexes from
  this registry's database), folded into the bundle (:class:`~dataseal.registry.evidence.GrantScope`).
- :func:`open_default_registry` is where :func:`prove` finds the chain when none was named: the data folder's
  deployment on its node, when the folder records one and the node answers with it live; otherwise it says why
  not (the proof is then made without the record, never refused for it).
- :func:`check_on_chain` checks a bundle's record on a node: the chain id; that the record's contract is the
  AssetRegistry the verifier trusts (:class:`TrustedRegistry`: an address the verifier was given, or the
  deployment its data folder records for that chain — anyone can deploy a look-alike dataseal on the same chain and
  register a copy of the data there, so a bundle's own word for its contract proves nothing); that the
  transaction is in the block the record names and emitted exactly the event it expects; the block's time; and
  that the registration still stands (a cancelled or rejected registration, or one that no longer holds the
  root, fails the check). With a grant scope in the bundle: that the grant, on chain, is of the registered asset
  with the bundle's scope root, in the GrantRegistry wired to that AssetRegistry (through its ledger).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hexbytes import HexBytes
from web3.exceptions import TransactionNotFound

from dataseal.chain.connection import Connection
from dataseal.chain.connection.failures import is_connection_failure, unreachable
from dataseal.chain.contracts.asset_registry import AssetRegistryClient
from dataseal.chain.contracts.deployment import deployments_path, get_deployment
from dataseal.chain.contracts.events import EventDecoder
from dataseal.chain.contracts.grant_registry import GrantRegistryClient
from dataseal.chain.contracts.records import ZERO32, AssetRecord, AssetStatus, BatchRecord, GrantStatus
from dataseal.chain.contracts.revert import format_time
from dataseal.chain.contracts.transaction_ledger import TransactionLedgerClient
from dataseal.chain.errors import ContractRevert, NodeUnreachable
from dataseal.chain.values import address as checked_address
from dataseal.errors import DatasealError, ErrorKind, InvalidInput
from dataseal.registry.context import Context
from dataseal.registry.evidence import (
    ChainRecord,
    DirectRegistration,
    EvidenceBundle,
    EvidenceError,
    GrantScope,
    Proof,
    build_bundle,
    compute_leaf_position,
    describe_subject,
    verify_bundle_offline,
)
from dataseal.registry.manifest import Manifest
from dataseal.registry.registry import Registry
from dataseal.registry.scope import IndexTree, format_ranges
from dataseal.registry.sealing import ProgressCallback
from dataseal.registry.sealing.seal import prove as prove_part
from dataseal.registry.services.commitments import find_registration
from dataseal.registry.services.grant_terms import get_scope_indexes
from dataseal.registry.services.writer import status_name
from dataseal.registry.settings import Settings


@dataclass(frozen=True)
class ProveResult:
    """A proof, and its evidence bundle when the data is registered (``unregistered`` says why not otherwise);
    ``scope``: the grant-scope proof when a grant was named."""

    proof: Proof
    bundle: EvidenceBundle | None
    unregistered: str | None = None
    scope: GrantScope | None = None


def chain_record(context: Context, manifest: Manifest) -> ChainRecord | None:
    """The registration of ``manifest``'s root as the chain records it, or None when no registration holds it.

    Refuses (:class:`EvidenceError`) a manifest that is not the registered one (same root, another hash).
    """
    deployment = context.deployment()
    contracts = context.contracts()
    root = bytes.fromhex(manifest.tree.root[2:])
    asset_id = contracts.registry.asset_id_of(root)
    if asset_id is None:
        return None
    asset = contracts.registry.asset(asset_id)
    if asset.manifest_hash != manifest.hash:
        raise EvidenceError(
            f"the data is registered as asset {asset_id} with manifest hash 0x{asset.manifest_hash.hex()}, but "
            f"this manifest hashes to {manifest.hash_hex}: it is not the registered manifest",
            hint="prove with the manifest that was registered (the registry keeps a copy of every manifest it "
            "registered in its data folder, under manifests/)", options=("manifest",))
    event = find_registration(context.connection.w3, deployment, asset_id)
    return _record_of(deployment.chain_id, deployment.asset_registry, event)


def _record_of(chain_id: int, contract: str, event: AssetRecord) -> ChainRecord:
    return ChainRecord(
        chain_id=chain_id, contract=contract, tx_hash=event.tx.tx_hash, block_number=event.tx.block_number,
        block_hash=event.tx.block_hash, timestamp=event.registered_at, sender=event.registrant,
        asset=DirectRegistration(asset_id=event.asset_id, content_root="0x" + event.content_root.hex(),
                                 manifest_hash="0x" + event.manifest_hash.hex(), rights_type=event.rights_type,
                                 classification=event.classification),
    )


def prove(
    registry: Registry | None,
    path: Path,
    manifest: Manifest,
    *,
    chunk: int | None = None,
    row: int | None = None,
    file: str | None = None,
    secret: bytes | None = None,
    grant: int | None = None,
    progress: ProgressCallback | None = None,
    no_chain: str = "no chain was asked",
) -> ProveResult:
    """A proof of one part of ``path`` (which must still be what ``manifest`` sealed), bundled with its
    registration when the chain has one. Without a ``registry`` (no chain to ask) it is the proof alone, and
    ``no_chain`` says why (:attr:`ProveResult.unregistered`)."""
    proof = prove_part(Path(path), manifest, chunk=chunk, row=row, file=file, secret=secret, progress=progress)
    if registry is None:
        if grant is not None:
            raise EvidenceError("a grant's scope is read from the chain, and no chain was given",
                                hint="connect to the node of the grant", options=("rpc_url",))
        return ProveResult(proof, None, no_chain)
    record = chain_record(registry.context, manifest)
    if record is None:
        if grant is not None:
            raise EvidenceError(f"the data's root {manifest.tree.root} is not registered on chain "
                                f"{registry.context.connection.chain_id}, so no grant covers it",
                                hint="register the data first, or prove from the registered version",
                                kind=ErrorKind.NOT_FOUND)
        return ProveResult(proof, None, f"root {manifest.tree.root} is not registered on chain "
                                        f"{registry.context.connection.chain_id}")
    scope = None
    if grant is not None:
        position = compute_leaf_position(proof, manifest)
        index = position if position is not None else _leaf_index(proof, manifest, path)
        assert record.asset is not None  # chain_record gives direct registrations
        scope = prove_grant_scope(registry, grant, record.asset.asset_id, index, describe_subject(proof))
    bundle = build_bundle(manifest, record, [proof], scope)
    return ProveResult(proof, bundle, None, scope)


@dataclass(frozen=True)
class DefaultChain:
    """What :func:`open_default_registry` found: the registry whose chain answers with the data folder's
    deployment (close it when done), or None and why not (``missing``)."""

    registry: Registry | None
    missing: str | None = None


def open_default_registry(settings: Settings) -> DefaultChain:
    """The registry of ``settings`` when its data folder records a deployment and the chain answers with it live
    (the node the settings name, else the data folder's running node or embedded chain); otherwise no registry
    and why not, in a few words. Never raises for a chain out of reach (whatever stops the chain or its deployment
    from being read is the reason given); the data folder is not created, and nothing is written to it."""
    record = deployments_path(settings.data_dir)
    if not settings.rpc_url and not record.is_file():
        return DefaultChain(None, f"no deployment is recorded in {settings.data_dir} (no {record.name})")
    registry = Registry(settings)
    try:
        registry.context.deployment()  # connects; the record for the node's chain, live on it
    except DatasealError as exc:
        registry.close()
        return DefaultChain(None, exc.message)
    except BaseException:
        registry.close()
        raise
    return DefaultChain(registry)


def prove_grant_scope(registry: Registry, grant_id: int, asset_id: int, leaf_index: int,
                      part: str | None = None) -> GrantScope:
    """The proof that leaf ``leaf_index`` (``part`` names it in errors) of asset ``asset_id`` lies inside grant
    ``grant_id``'s scope: the grant and its scope root read from the chain, the indexes behind the root from this
    registry's database (the registry that made the grant keeps them). :class:`EvidenceError` when the grant is of
    another asset, its indexes are unknown here, or the part is outside the scope."""
    context = registry.context
    deployment = context.deployment()
    state = context.contracts().grants.grant_of(grant_id)  # UnknownGrant, decoded
    part = part or f"leaf {leaf_index}"
    if state.asset_id != asset_id:
        raise EvidenceError(f"grant {grant_id} is of asset {state.asset_id}, not of asset {asset_id} (the data's "
                            "registration)", hint="name a grant of this asset", options=("grant",),
                            kind=ErrorKind.CONFLICT)
    root = state.scope_root
    made = GrantScope(grant_registry=deployment.grant_registry, grant_id=grant_id, asset_id=asset_id,
                      scope_root="0x" + root.hex(), leaf_index=leaf_index)
    if root == ZERO32:
        return made
    indexes = get_scope_indexes(registry, root)
    if indexes is None:
        raise EvidenceError(f"this registry does not know the indexes behind grant {grant_id}'s scope root "
                            f"0x{root.hex()}", hint="prove with the registry that made the grant (its database keeps "
                            "the indexes of its grants' scopes)", kind=ErrorKind.NOT_FOUND)
    tree = IndexTree.of(indexes)
    if leaf_index not in tree:
        listed = format_ranges(indexes)
        raise EvidenceError(f"{part} (leaf {leaf_index}) is outside grant {grant_id}'s scope ({len(tree)} indexes: "
                            f"{listed[:80]}{'...' if len(listed) > 80 else ''})",
                            hint="prove a part the grant covers, or ask the asset owner for a wider grant",
                            options=("grant",), kind=ErrorKind.CONFLICT)
    return made.model_copy(update={"proof": tree.multiproof([leaf_index])})


def _leaf_index(proof: Proof, manifest: Manifest, path: Path) -> int:
    """A folder file's leaf index (its position in the folder's order)."""
    from dataseal.registry.sealing.seal import compute_tree, manifest_options

    with compute_tree(Path(path), manifest_options(manifest)) as computed:
        for i in range(len(computed.tree)):
            if computed.tree.at(i)[0] == proof.value[0]:
                return i
    raise EvidenceError(f"{proof.value[0]!r} is not a file of {path}", hint="check the path",
                        kind=ErrorKind.NOT_FOUND)  # pragma: no cover - prove found it


# ---------------------------------------------------------------------------------- on chain


@dataclass(frozen=True)
class TrustedRegistry:
    """The AssetRegistry a verifier trusts on a chain, and why (``source``, said in what was checked and in errors):
    the address the verifier gave (as the registry's operator publishes it), or the one a data folder's deployment
    record names."""

    address: str
    source: str


def get_trusted_registry(chain_id: int, *, contract: str | None = None,
                         data_dir: Path | None = None) -> TrustedRegistry | None:
    """The AssetRegistry to trust on chain ``chain_id``: ``contract`` when given (the verifier's own word), else
    the one the deployment record of ``data_dir`` names for that chain; None when neither says (nothing to check
    a bundle's contract against)."""
    if contract is not None:
        try:
            address = checked_address(contract, "the registry address to trust")
        except InvalidInput as exc:
            raise InvalidInput(exc.message, hint=exc.hint, options=("contract",)) from None
        return TrustedRegistry(address, "the address given")
    if data_dir is None:
        return None
    deployment = get_deployment(data_dir, chain_id)
    if deployment is None:
        return None
    return TrustedRegistry(deployment.asset_registry,
                           f"the deployment of chain {chain_id} recorded in {deployments_path(data_dir)}")


def verify_trusted_contract(record: ChainRecord, trusted: TrustedRegistry | None) -> None:
    """Refuse (:class:`EvidenceError`) a record whose contract is not the trusted AssetRegistry, or that nothing
    trusted can vouch for."""
    if trusted is None:
        raise EvidenceError(
            f"the bundle's record names AssetRegistry {record.contract} on chain {record.chain_id}, and nothing says "
            "that is the registry to trust: anyone can deploy a look-alike dataseal on the same chain and register "
            "a copy of the data there, so the bundle's own word for its contract proves nothing",
            hint=f"give the address of the registry you trust (as its operator publishes it), or a data folder "
            f"whose deployment record is of chain {record.chain_id}", options=("contract", "data_dir"))
    if record.contract.lower() != trusted.address.lower():
        raise EvidenceError(
            f"the bundle's record names AssetRegistry {record.contract}, but the registry trusted on chain "
            f"{record.chain_id} is {trusted.address} ({trusted.source}): the bundle was made on another contract "
            "(a look-alike deployment, or another registry), and proves nothing about this one",
            hint="ask for a bundle of the registry you trust; check it against the other contract only if you have "
            "your own reason to trust that one", options=("contract",), kind=ErrorKind.CONFLICT)


@dataclass(frozen=True)
class ChainCheck:
    """What :func:`check_on_chain` checked (all passed) and what the registration is now (``warnings``: a
    registration pending, disputed, suspended or expired stands, and is said so)."""

    endpoint: str
    checked: tuple[str, ...]
    status: str | None = None
    holds_root: bool | None = None
    warnings: tuple[str, ...] = field(default=())
    trusted: str | None = None
    """Why the record's contract is trusted (:attr:`TrustedRegistry.source`)."""

    def to_json(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "checked": list(self.checked), "status": self.status,
                "holds_root": self.holds_root, "warnings": list(self.warnings), "trusted_by": self.trusted}


def check_on_chain(bundle: EvidenceBundle, connection: Connection, trusted: TrustedRegistry | None) -> ChainCheck:
    """Check ``bundle`` offline, then its record against the node of ``connection``, its contract against
    ``trusted`` (None: nothing vouches for it, and the check is refused; see the module doc)."""
    verify_bundle_offline(bundle)
    record = bundle.record
    w3 = connection.w3
    checked: list[str] = []
    if connection.chain_id != record.chain_id:
        raise EvidenceError(f"the bundle's record is on chain {record.chain_id}, but the node at "
                            f"{connection.endpoint} is chain {connection.chain_id}",
                            hint=f"check it against a node of chain {record.chain_id}", options=("rpc_url",))
    checked.append(f"chain id {record.chain_id}")
    verify_trusted_contract(record, trusted)
    assert trusted is not None
    checked.append(f"contract {record.contract} is the trusted AssetRegistry ({trusted.source})")
    try:
        receipt = w3.eth.get_transaction_receipt(HexBytes(record.tx_hash))
    except TransactionNotFound:
        raise EvidenceError(f"transaction {record.tx_hash} is not on chain {record.chain_id} at {connection.endpoint}: "
                            "the record is false, or the node has not synced that far (or was reset)",
                            hint="check against a synced node of that chain", kind=ErrorKind.NOT_FOUND,
                            options=("rpc_url",)) from None
    except Exception as exc:
        if is_connection_failure(exc):
            raise unreachable(connection.endpoint, exc) from exc
        raise
    if int(receipt["status"]) != 1:
        raise EvidenceError(f"transaction {record.tx_hash} failed on chain (status 0): it registered nothing",
                            hint="the bundle's record is false")
    block = int(receipt["blockNumber"])
    block_hash = HexBytes(receipt["blockHash"]).to_0x_hex()
    if block != record.block_number or (record.block_hash is not None and block_hash != record.block_hash):
        raise EvidenceError(
            f"transaction {record.tx_hash} is in block {block} ({block_hash}), but the record says block "
            f"{record.block_number}" + (f" ({record.block_hash})" if record.block_hash else "") +
            ": a reorganisation moved it, or the record was altered", hint="build the bundle again from the chain")
    checked.append(f"transaction {record.tx_hash} succeeded in block {block}")
    name, expected = record.expected_event()
    kind = AssetRecord if record.asset is not None else BatchRecord
    emitted: list[AssetRecord | BatchRecord] = [
        r for r in EventDecoder({"AssetRegistry": record.contract}).decode_receipt(receipt)
        if isinstance(r, (AssetRecord, BatchRecord)) and isinstance(r, kind)]
    wanted = _normalise(expected)
    if not any(_event_args(r) == wanted for r in emitted):
        got = "; ".join(str(_event_args(r)) for r in emitted) or f"no {name} from {record.contract}"
        raise EvidenceError(f"transaction {record.tx_hash} did not emit the {name} the record claims: expected "
                            f"{wanted}, the chain has {got}", hint="the bundle's record was altered")
    checked.append(f"it emitted {name} from {record.contract} with the record's values")
    stamp = int(w3.eth.get_block(block)["timestamp"])
    if stamp != record.timestamp:
        raise EvidenceError(f"block {block} is at {stamp}, the record says {record.timestamp}",
                            hint="the bundle's record was altered")
    checked.append(f"block time {stamp}")
    if record.asset is None:
        return ChainCheck(connection.endpoint, tuple(checked), trusted=trusted.source)
    asset_id, root = record.asset.asset_id, record.asset.content_root
    client = AssetRegistryClient(w3, record.contract)
    status = client.status_of(asset_id)
    holder = client.asset_id_of(bytes.fromhex(root[2:]))
    if status in (AssetStatus.Cancelled, AssetStatus.Rejected) or holder != asset_id:
        held = "" if holder == asset_id else (f" and no longer holds root {root}" +
                                              (f" (asset {holder} does)" if holder else ""))
        raise EvidenceError(
            f"asset {asset_id} is now {status_name(status)}{held}: the registration the bundle records no longer "
            "stands", hint="the bundle is of a registration since given up or struck off; ask the data's owner "
            "for evidence of its current registration", kind=ErrorKind.CONFLICT)
    checked.append(f"asset {asset_id} still holds root {root} ({status_name(status)})")
    warnings = []
    if status == AssetStatus.Pending:
        warnings.append(f"asset {asset_id} is still Pending (in its notice period)")
    elif status != AssetStatus.Active:
        warnings.append(f"asset {asset_id} is now {status_name(status)}")
    if bundle.scope is not None:
        checked.append(_check_scope_on_chain(bundle, connection, warnings))
    return ChainCheck(connection.endpoint, tuple(checked), status_name(status), True, tuple(warnings),
                      trusted=trusted.source)


def _wired_grant_registry(connection: Connection, asset_registry: str) -> str:
    """The GrantRegistry deployed with ``asset_registry`` (trusted): its ledger's, that ledger naming it back (the
    ledger's constructor checked the three agree; ``WiringMismatch`` otherwise)."""
    registry = AssetRegistryClient(connection.w3, asset_registry)
    ledger_address = str(connection.call(lambda: registry.contract.functions.ledger().call(),
                                         "reading the AssetRegistry's ledger"))
    ledger = TransactionLedgerClient(connection.w3, ledger_address)

    def read(function: str) -> str:
        return str(connection.call(lambda: getattr(ledger.contract.functions, function)().call(),
                                   f"reading the TransactionLedger's {function}"))

    try:
        assets_of, grants_of = read("assets"), read("grants")
    except NodeUnreachable:
        raise
    except DatasealError as exc:
        raise EvidenceError(f"the ledger {ledger_address} of AssetRegistry {asset_registry} did not answer as a "
                            f"TransactionLedger ({exc.message})", hint="check the node and the registry's address",
                            kind=ErrorKind.CONFLICT) from None
    if assets_of.lower() != asset_registry.lower():
        raise EvidenceError(f"the ledger {ledger_address} of AssetRegistry {asset_registry} serves AssetRegistry "
                            f"{assets_of}", hint="the registry's deployment is miswired: ask its operator",
                            kind=ErrorKind.CONFLICT)
    return grants_of


def _check_scope_on_chain(bundle: EvidenceBundle, connection: Connection, warnings: list[str]) -> str:
    """That the bundle's grant is, on chain, of the registered asset with the bundle's scope root, in the
    GrantRegistry wired to the record's (trusted) AssetRegistry; what was checked. Warnings: a grant revoked or
    expired."""
    scope, record = bundle.scope, bundle.record
    assert scope is not None and record.asset is not None  # checked offline
    grant = f"grant {scope.grant_id}"
    wired = _wired_grant_registry(connection, record.contract)
    if scope.grant_registry.lower() != wired.lower():
        raise EvidenceError(f"the bundle's GrantRegistry {scope.grant_registry} is not the one of AssetRegistry "
                            f"{record.contract} ({wired}, named by its ledger): its grant proves nothing about this "
                            "registry's grants", hint="the bundle's scope was altered, or made with another "
                            "deployment", kind=ErrorKind.CONFLICT)
    client = GrantRegistryClient(connection.w3, scope.grant_registry)
    try:
        state = client.grant_of(scope.grant_id)
    except ContractRevert as exc:
        if exc.name == "UnknownGrant":
            raise EvidenceError(f"{grant} does not exist in GrantRegistry {scope.grant_registry}",
                                hint="the bundle's scope was altered", kind=ErrorKind.NOT_FOUND) from None
        raise _not_a_grant_registry(scope.grant_registry, record.chain_id, exc) from None
    except NodeUnreachable:
        raise
    except DatasealError as exc:
        raise _not_a_grant_registry(scope.grant_registry, record.chain_id, exc) from None
    on_chain = "0x" + state.scope_root.hex()
    if state.asset_id != scope.asset_id or on_chain != scope.scope_root:
        raise EvidenceError(f"on chain, {grant} is of asset {state.asset_id} with scope root {on_chain}; the bundle "
                            f"says asset {scope.asset_id}, scope root {scope.scope_root}",
                            hint="the bundle's scope was altered")
    if state.status != GrantStatus.Active:
        warnings.append(f"{grant} is now {state.status.name}")
    else:
        now = int(connection.call(lambda: connection.w3.eth.get_block("latest")["timestamp"], "reading the time"))
        if now >= state.expires_at:
            warnings.append(f"{grant} expired at {format_time(state.expires_at)}")
    return (f"{grant} at {scope.grant_registry} (the GrantRegistry of AssetRegistry {record.contract}) is of asset "
            f"{scope.asset_id} with scope root {scope.scope_root}")


def _not_a_grant_registry(where: str, chain_id: int, exc: DatasealError) -> EvidenceError:
    return EvidenceError(f"the bundle's GrantRegistry {where} did not answer as one on chain {chain_id} "
                         f"({exc.message})", hint="the bundle's scope was altered, or made on another chain")


def _normalise(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.lower() if isinstance(v, str) else v) for k, v in values.items()}


def _event_args(record: AssetRecord | BatchRecord) -> dict[str, Any]:
    if isinstance(record, AssetRecord):
        return _normalise({"assetId": record.asset_id, "registrant": record.registrant,
                           "contentRoot": "0x" + record.content_root.hex(),
                           "manifestHash": "0x" + record.manifest_hash.hex(), "rightsType": record.rights_type,
                           "classification": record.classification, "registeredAt": record.registered_at})
    return _normalise({"batchId": record.batch_id, "anchorer": record.anchorer,
                       "batchRoot": "0x" + record.batch_root.hex(), "manifestHash": "0x" + record.manifest_hash.hex(),
                       "anchoredAt": record.anchored_at})
