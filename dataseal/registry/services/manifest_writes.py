"""Registering from a manifest alone: the data was sealed elsewhere (a client sealed it locally), the registry gets
its manifest and, optionally, its leaf digests (then it stores the tree and serves proofs of it).

Two ways, one path:

- **by the signing account** (the registry's operator): it registers as owner, with a commitment first when the
  deployment requires one (as :func:`dataseal.registry.services.assets.register` does);
- **relayed** (:class:`RelayedSignature`): the owner signed an EIP-712 ``Register`` (registerBySig) with their own
  key, elsewhere; the signing account sends it and the owner is the signer. Where commitments are required, the
  commitment is to (root, owner, salt): anyone may make it, so the signing account makes it for the owner with a
  salt of its own (or the owner's, when the owner committed already and says with which salt), waits out its
  minimum age, then relays. The owner's signature does not cover the salt, so nobody who sees the commitment can
  take the root: the commitment binds it to the owner.

:func:`check_manifest_registration` makes every check that can be made before anything is sent (malformed leaves,
a root already held or reserved for another, a validity end the chain would refuse, a signature that does not
recover to the owner or whose deadline will have passed when it is sent); :func:`register_manifest` makes the
registration through the outbox (a rerun finishes the same registration, never a second one).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data

from dataseal.chain.accounts.eip712 import REGISTER_TYPE, REGISTRY_DOMAIN_NAME, Domain, typed_data
from dataseal.chain.accounts.passwords import PasswordSource
from dataseal.chain.contracts.client import ESTIMATE
from dataseal.chain.contracts.records import ZERO32, Asset, Registration
from dataseal.chain.contracts.revert import format_time
from dataseal.chain.values import address as checked_address
from dataseal.errors import InvalidInput
from dataseal.registry.context import signing_entry
from dataseal.registry.manifest import Manifest
from dataseal.registry.merkle import core
from dataseal.registry.outbox import Delivered, Hook
from dataseal.registry.registry import Registry
from dataseal.registry.services.assets import verify_validity
from dataseal.registry.services.commitments import ChainWait, commit, deliver_aged, record_of
from dataseal.registry.services.grant_terms import compute_next_block_time
from dataseal.registry.services.seal_records import TREES_DIRNAME, record_manifest, record_tree, write_tree
from dataseal.registry.services.writer import Clock, RegistrationError, at_moment, open_writer, status_name

#: Seconds a relayed signature's deadline must leave after the time it can be sent (the commitment's minimum age
#: included): a few blocks.
DEADLINE_MARGIN = 60


@dataclass(frozen=True)
class RelayedSignature:
    """An owner's EIP-712 ``Register`` signature for registerBySig (see :func:`dataseal.chain.accounts.eip712.
    sign_register`): signed over the registration, the owner's nonce and ``deadline``."""

    owner: str
    deadline: int
    signature: bytes
    salt: bytes | None = None
    """The salt of a commitment the owner made already; None: the signing account commits for the owner."""


@dataclass(frozen=True)
class ManifestRegistration:
    """A registration from a manifest, on chain."""

    asset_id: int
    tx_hash: str
    block_number: int
    content_root: str
    manifest_hash: str
    owner: str
    registrant: str
    status: str
    chain_id: int
    relayed: bool
    stored_tree: bool

    def to_json(self) -> dict[str, Any]:
        return {"asset_id": self.asset_id, "tx_hash": self.tx_hash, "block_number": self.block_number,
                "content_root": self.content_root, "manifest_hash": self.manifest_hash, "owner": self.owner,
                "registrant": self.registrant, "status": self.status, "chain_id": self.chain_id,
                "relayed": self.relayed, "stored_tree": self.stored_tree}


def operator_address(registry: Registry) -> str:
    """The registry's signing account (without unlocking it)."""
    return signing_entry(registry.settings).address


def registration_key(registry: Registry, root: str) -> str:
    """The outbox key of the registration of ``root`` (the natural key of a registration)."""
    deployment = registry.context.deployment()
    return f"register:{deployment.chain_id}:{deployment.asset_registry}:{root}"


def register_domain(registry: Registry) -> Domain:
    """The EIP-712 domain of registerBySig on this registry's deployment."""
    deployment = registry.context.deployment()
    return Domain(REGISTRY_DOMAIN_NAME, deployment.chain_id, deployment.asset_registry)


def compute_registration(manifest: Manifest, classification: int, valid_until: int) -> Registration:
    return Registration(bytes.fromhex(manifest.tree.root[2:]), manifest.hash, manifest.rights_bitmask, classification,
                        0, valid_until)


def recover_register_signer(registry: Registry, registration: Registration, relay: RelayedSignature,
                            nonce: int) -> str | None:
    """The address that signed ``relay``'s registration with ``nonce``; None if the signature recovers to none."""
    message = {"owner": relay.owner, "contentRoot": registration.content_root,
               "manifestHash": registration.manifest_hash, "rightsType": registration.rights_type,
               "classification": registration.classification, "parentId": registration.parent_id,
               "validUntil": registration.valid_until, "nonce": nonce, "deadline": relay.deadline}
    try:
        encoded = encode_typed_data(full_message=typed_data(REGISTER_TYPE, register_domain(registry), message))
        return str(Account.recover_message(encoded, signature=relay.signature))
    except Exception:
        return None


#: What to send as a registration's leaves (tree.json's leaf hashes, in leaf order).
LEAVES_HINT = ("send the seal's leaf hashes in data order: leaf i is tree.json's tree[2n - 2 - i] (n leaves; also "
               "tree[values[i].treeIndex]), the standard-v1 leaf hash, not the chunk's digest")


def check_leaves(manifest: Manifest, leaves: Sequence[bytes]) -> bytearray:
    """The node buffer of the tree of ``leaves`` (leaf hashes in leaf order); :class:`InvalidInput` unless they are
    the manifest's tree (as many, and the same root)."""
    if len(leaves) != manifest.tree.leaf_count:
        raise InvalidInput(f"the manifest's tree has {manifest.tree.leaf_count} leaves, {len(leaves)} leaf digests "
                           "were given", hint=f"{LEAVES_HINT}, or none", options=("leaves",))
    nodes = core.build(list(leaves))
    root = "0x" + core.node_at(nodes, 0).hex()
    if root != manifest.tree.root:
        raise InvalidInput(f"the leaf digests make the root {root}, not the manifest's root {manifest.tree.root}",
                           hint=f"{LEAVES_HINT}, of the seal whose manifest this is", options=("leaves",))
    return nodes


def check_manifest_registration(registry: Registry, manifest: Manifest, *, leaves: Sequence[bytes] | None,
                                classification: int, valid_until: int,
                                relay: RelayedSignature | None = None) -> None:
    """Refuse now what the registration would be refused later (see the module documentation): leaves that are not
    the manifest's tree, a root held or reserved for someone else, a validity end the chain would refuse, and for a
    relay a signature that does not recover to its owner or a deadline too near. A registration the chain already
    has exactly as asked (a retry) passes."""
    if not 0 <= classification <= 3:
        raise InvalidInput(f"the classification is 0 (public) to 3 (core), got {classification}",
                           hint="give 0, 1, 2 or 3", options=("classification",))
    if leaves is not None:
        check_leaves(manifest, leaves)
    contracts = registry.context.contracts()
    client = contracts.registry
    owner = relay.owner if relay is not None else operator_address(registry)
    root = bytes.fromhex(manifest.tree.root[2:])
    holder = client.asset_id_of(root)
    if holder is not None:
        asset = client.asset(holder)
        if asset.owner == owner and asset.manifest_hash == manifest.hash:
            return  # this very registration, made: a retry finishes it
        raise RegistrationError(
            f"root {manifest.tree.root} is already registered as asset {holder} by {asset.registrant} (owner "
            f"{asset.owner}), who keeps priority while that registration stands",
            hint="if the data is yours, object during its notice period or ask a reviewer to reject it")
    reservation = client.reservation_of(root)
    if reservation is not None and reservation.beneficiary != owner:
        whom = "nobody (it is cooling after a cancellation)" if reservation.beneficiary is None \
            else reservation.beneficiary
        raise RegistrationError(f"root {manifest.tree.root} is reserved for {whom} until "
                                f"{format_time(reservation.until)}", hint="register it after that time")
    if valid_until:
        verify_validity(_ReadOnlyWriter(registry), valid_until)  # type: ignore[arg-type]
    if relay is None:
        return
    registration = compute_registration(manifest, classification, valid_until)
    signer = recover_register_signer(registry, registration, relay, client.nonce_of(relay.owner))
    if signer != relay.owner:
        raise InvalidInput(
            f"the registerBySig signature is not {relay.owner}'s signature of this registration with its nonce "
            f"{client.nonce_of(relay.owner)}" + (f" (it recovers to {signer})" if signer else ""),
            hint="sign the EIP-712 Register message of exactly this manifest's root and hash, rights, "
                 "classification, validity, the owner's current nonce and the deadline, with the owner's key")
    now = compute_next_block_time(registry)
    age = client.min_commit_age() if client.commit_required() and relay.salt is None else 0
    earliest = now + age + DEADLINE_MARGIN
    if relay.deadline < earliest:
        raise InvalidInput(
            f"the signature's deadline {format_time(relay.deadline)} is before {format_time(earliest)}, the earliest "
            f"it can be sent (the chain's time {format_time(now)}"
            + (f", plus the commitment's minimum age of {age} s" if age else "") + f", plus {DEADLINE_MARGIN} s)",
            hint="sign again with a later deadline", options=("deadline",))


@dataclass
class _ReadOnlyWriter:
    """What :func:`verify_validity` reads of a writer: its registry and contracts (no account unlocked)."""

    registry: Registry

    @property
    def contracts(self) -> Any:
        return self.registry.context.contracts()


def register_manifest(registry: Registry, manifest: Manifest, *, leaves: Sequence[bytes] | None = None,
                      classification: int = 0, valid_until: int = 0, relay: RelayedSignature | None = None,
                      passwords: Sequence[PasswordSource] = (), clock: Clock | None = None,
                      hook: Hook | None = None) -> ManifestRegistration:
    """Register ``manifest`` (see the module documentation): by the signing account, or relaying ``relay``. The
    tree of ``leaves`` is stored (then proofs of the asset are served), the manifest recorded. Running it again after
    a crash, or after it finished, finishes or finds the same registration."""
    check_manifest_registration(registry, manifest, leaves=leaves, classification=classification,
                                valid_until=valid_until, relay=relay)
    writer = open_writer(registry, passwords, hook)
    owner = relay.owner if relay is not None else writer.me
    client = writer.contracts.registry
    root = bytes.fromhex(manifest.tree.root[2:])
    key = writer.key("register", manifest.tree.root)
    registration = compute_registration(manifest, classification, valid_until)

    def mine() -> Asset | None:
        holder = client.asset_id_of(root)
        if holder is None:
            return None
        asset = client.asset(holder)
        return asset if asset.owner == owner and asset.manifest_hash == manifest.hash else None

    asset = mine()
    if asset is None:
        writer.outbox.retire_undone(key, lambda: mine() is not None)
        wait = ChainWait(writer, clock or Clock(), None)
        salt = ZERO32
        if client.commit_required():
            salt = relay.salt if relay is not None and relay.salt is not None else commit(
                writer, root, wait, owner=owner, again="send it again")
        payload = {"contentRoot": manifest.tree.root, "manifestHash": manifest.hash_hex, "parentId": 0,
                   "owner": owner}

        def send() -> Any:
            if relay is not None:
                return client.submit_register_by_sig(relay.owner, registration, salt, relay.deadline, relay.signature,
                                                     gas=ESTIMATE)
            return client.submit_register(registration, salt, gas=ESTIMATE)

        delivered = deliver_aged(writer, key, payload, send, lambda: mine() is not None, wait)
        record = record_of(writer, delivered, None)
    else:
        row = writer.outbox.get(key)
        record = record_of(writer, Delivered(key, row.tx_hash if row else None, None), asset.asset_id)
        writer.outbox.mark_done(key, tx_hash=record.tx.tx_hash, block_number=record.tx.block_number)
    asset = client.asset(record.asset_id)
    stored = False
    if leaves is not None:
        nodes = check_leaves(manifest, leaves)
        record_tree(registry, manifest, write_tree(registry.data_dir / TREES_DIRNAME, manifest.tree.root, nodes,
                                                   manifest.tree.leaf_count))
        stored = True
        at_moment(hook, "tree-stored")
    record_manifest(registry, manifest, chain_id=writer.deployment.chain_id, asset_id=asset.asset_id)
    at_moment(hook, "manifest-recorded")
    return ManifestRegistration(
        asset_id=asset.asset_id, tx_hash=record.tx.tx_hash, block_number=record.tx.block_number,
        content_root=manifest.tree.root, manifest_hash=manifest.hash_hex, owner=asset.owner,
        registrant=asset.registrant, status=status_name(asset.status), chain_id=writer.deployment.chain_id,
        relayed=relay is not None, stored_tree=stored)


def parse_owner(owner: str) -> str:
    return checked_address(owner, "owner")
