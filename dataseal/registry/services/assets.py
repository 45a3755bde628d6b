"""Registering data assets and moving them through their life: register, new version, cancel, review.

:func:`register` seals a file, folder or table (or reuses its seal when the manifest still matches the data:
a table sealed twice gets a new random salt nonce, so a rerun must not seal it again), commits first when the
deployment requires commitments (the random salt is recorded before the commitment is sent; the registration
waits for a block whose timestamp passes the commitment's minimum age), registers, stores the tree compactly
under the data folder (``trees/<root>.dstree``, :mod:`dataseal.registry.merkle.stored`) and records the
manifest; last, it writes the asset's registration certificate beside the manifest (``PATH.dataseal/certificate.json``
and ``.html``, and ``.pdf`` when asked: :class:`CertificateOptions`). Running it again after a crash at any point
finishes the same registration, never a second one:
each transaction goes through the :mod:`~dataseal.registry.outbox`, and the chain decides what is done (the
root held by this owner's registration of this manifest).

:func:`register_version`, :func:`cancel` and :func:`review` follow the same pattern. Every check that can be
made before sending is made before anything is recorded: an unknown asset, another owner's asset, a status
that refuses the move, a root held by someone else.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dataseal.chain.accounts.passwords import PasswordSource
from dataseal.chain.contracts.client import ESTIMATE
from dataseal.chain.contracts.records import (
    ZERO32,
    Asset,
    AssetStatus,
    Registration,
)
from dataseal.chain.contracts.revert import format_time
from dataseal.errors import ErrorKind, InvalidInput
from dataseal.registry.manifest import (
    FileContent,
    FolderContent,
    Manifest,
    ManifestError,
    ManifestMetadata,
    RightsName,
    TableContent,
    build_manifest,
    read_manifest,
)
from dataseal.registry.outbox import Delivered, Hook
from dataseal.registry.registry import Registry
from dataseal.registry.sealing import ProgressCallback, SealError, SealOptions
from dataseal.registry.sealing.atomic import StagedFiles
from dataseal.registry.sealing.seal import (
    MANIFEST_NAME,
    TREE_NAME,
    ComputedTree,
    compute_tree,
    default_output_dir,
    manifest_options,
    tree_info,
)
from dataseal.registry.services.certificate_step import (
    DEFAULT_CERTIFICATE,
    CertificateOptions,
    WrittenCertificate,
    write_certificate,
)
from dataseal.registry.services.commitments import ChainWait, commit, deliver_aged, record_of
from dataseal.registry.services.grant_terms import compute_next_block_time
from dataseal.registry.services.seal_records import (
    TREES_DIRNAME,
    archive,
    record_manifest,
    record_tree,
    recorded_manifest,
    write_tree,
)
from dataseal.registry.services.writer import (
    Clock,
    RegistrationError,
    Writer,
    at_moment,
    open_writer,
    owner_of,
    read_asset,
    status_name,
    when_active,
)

#: AssetRegistry's classification levels (the Registration struct's uint8).
CLASSIFICATIONS: dict[str, int] = {"public": 0, "general": 1, "important": 2, "core": 3}
# ---------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class ReplacedSeal:
    """The seal a registration found beside the data and replaced: its manifest, kept in the data folder
    (``archived``: ``<data_dir>/manifests/<manifest hash>.json``), and the asset it registered (None: none that
    stands on chain)."""

    archived: Path
    asset_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"archived": str(self.archived), "asset_id": self.asset_id}


@dataclass(frozen=True)
class RegistrationResult:
    """A registration (or a new version) on chain, with the files and records made for it."""

    asset_id: int
    tx_hash: str
    block_number: int
    content_root: str
    manifest_hash: str
    manifest_path: Path
    stored_tree_path: Path
    status: str
    owner: str
    chain_id: int
    parent_id: int = 0
    resumed: bool = False
    """An earlier run had started it; this run finished it (or found it finished)."""
    already_registered: bool = False
    """The chain had the registration when this run began: an earlier run made it (this one at most finished
    the records and files after it)."""
    reused_seal: bool = False
    """The seal beside the data still matched it and was used as it was."""
    certificate: WrittenCertificate | None = None
    """The registration certificate written beside the manifest (None: none was asked for)."""
    tree_dump: Path | None = None
    """OpenZeppelin's tree dump written beside the manifest (None: none was asked for)."""
    reorged: tuple[str, ...] = ()
    """What this run found undone by reorganisations and repaired (an earlier run's transaction dropped and sent
    again, or mined again in another block), one line each."""
    replaced_seal: ReplacedSeal | None = None
    """The earlier seal beside the data this run replaced, and where its manifest is kept (None: none replaced)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "asset_id": self.asset_id, "tx_hash": self.tx_hash, "block_number": self.block_number,
            "content_root": self.content_root, "manifest_hash": self.manifest_hash, "manifest": str(self.manifest_path),
            "stored_tree": str(self.stored_tree_path), "status": self.status, "owner": self.owner,
            "chain_id": self.chain_id, "parent_id": self.parent_id, "resumed": self.resumed,
            "already_registered": self.already_registered,
            "reused_seal": self.reused_seal,
            "certificate": self.certificate.to_json() if self.certificate is not None else None,
            "tree_dump": str(self.tree_dump) if self.tree_dump is not None else None,
            "reorged": list(self.reorged),
            "replaced_seal": self.replaced_seal.to_json() if self.replaced_seal is not None else None,
        }


# ---------------------------------------------------------------------------------- the writer


# ---------------------------------------------------------------------------------- register


def register(
    registry: Registry,
    path: Path,
    *,
    title: str | None = None,
    description: str = "",
    rights: Sequence[RightsName] = ("holding",),
    classification: int = 0,
    licence: str | None = None,
    source: str | None = None,
    salt_secret: bytes | None = None,
    valid_until: int = 0,
    options: SealOptions | None = None,
    passwords: Sequence[PasswordSource] = (),
    progress: ProgressCallback | None = None,
    clock: Clock | None = None,
    hook: Hook | None = None,
    certificate: CertificateOptions | None = DEFAULT_CERTIFICATE,
    tree_dump: bool = False,
    replace_seal: bool = False,
) -> RegistrationResult:
    """Register the file, folder or table at ``path`` as a new asset of the signing account.

    ``options`` say how to seal it (default: a file by 1 MiB chunks, a folder by files; with ``salt_secret``,
    a table by salted rows); ``rights`` (holding, processing, operation), ``classification`` (0 public to 3
    core) and ``valid_until`` (unix seconds, 0: no expiry) go on chain; ``title``, ``description``,
    ``licence`` and ``source`` into the manifest. ``passwords`` are the front door's sources for the keystore
    password; ``clock`` waits out a commitment's minimum age (and dates the certificate); ``hook(moment)`` is
    called after each step (``"sealed"``, the outbox's moments, ``"tree-stored"``, ``"manifest-recorded"``,
    ``"certificate-written"``). ``certificate`` says which certificate files to write beside the manifest (None:
    none). The registry keeps the tree compactly (``trees/<root>.dstree``: what proofs are served from); with
    ``tree_dump`` the seal's folder also gets OpenZeppelin's full dump (``tree.json``, about 250 bytes a leaf).

    Nothing beside the data or in the data folder is written before the chain has been asked whether this
    registration can be made: a root held by another registration, or by yours with another manifest, a validity
    end the chain would refuse, are refused with the seal there as it was (and a first registration leaves no seal).
    A seal beside the data that registered an asset standing on chain is replaced by a seal made another way (a
    file's bytes instead of a table's rows, another chunk size, without the salt) only with ``replace_seal``: else
    the registration is refused, naming that asset and how the two seals differ. A replaced seal's manifest is kept
    in the data folder (:attr:`RegistrationResult.replaced_seal` says where). Running it again after a crash at any
    step finishes the same registration.
    """
    options = _seal_options(options, salt_secret)
    metadata = _metadata(title, description, rights, licence, source)
    _check_registration_values(classification, valid_until)
    if certificate is not None:
        certificate.check()
    writer = open_writer(registry, passwords, hook)
    sealed = _seal(Path(path), options, metadata, registry.data_dir, progress,
                   check=lambda manifest: _verify_registrable(writer, manifest, Path(path), 0, valid_until),
                   keep=lambda old: _verify_seal_replaceable(writer, old, Path(path), options, 0, replace_seal),
                   tree_dump=tree_dump)
    at_moment(hook, "sealed")
    return _register_sealed(writer, Path(path), sealed, classification=classification, valid_until=valid_until,
                            parent_id=0, clock=clock or Clock(), hook=hook, certificate=certificate,
                            progress=progress)


def register_version(
    registry: Registry,
    asset_id: int,
    path: Path,
    *,
    title: str | None = None,
    description: str | None = None,
    rights: Sequence[RightsName] | None = None,
    classification: int | None = None,
    licence: str | None = None,
    source: str | None = None,
    salt_secret: bytes | None = None,
    valid_until: int = 0,
    options: SealOptions | None = None,
    passwords: Sequence[PasswordSource] = (),
    progress: ProgressCallback | None = None,
    clock: Clock | None = None,
    hook: Hook | None = None,
    certificate: CertificateOptions | None = DEFAULT_CERTIFICATE,
    tree_dump: bool = False,
    replace_seal: bool = False,
) -> RegistrationResult:
    """Register the data at ``path`` as a new version of ``asset_id`` (its owner; the asset must be Active).

    What is not given comes from the parent: its classification and rights from the chain, its title,
    description, licence and source, and how it was sealed (a table's rows, a file's chunk size) from its
    manifest when this registry recorded it (a salted table needs ``salt_secret`` again; the version gets its
    own salt nonce). The new version's certificate (and, with ``tree_dump``, its tree dump) is written as
    :func:`register` writes them, after the same checks. The parent's seal beside the data is replaced by the
    version's (its manifest kept in the data folder); another standing asset's seal only with ``replace_seal``.
    """
    if certificate is not None:
        certificate.check()
    writer = open_writer(registry, passwords, hook, acting=owner_of(registry, asset_id))
    parent = read_asset(writer.contracts, asset_id)
    if parent.owner != writer.me:
        raise RegistrationError(
            f"asset {asset_id} is owned by {parent.owner}; you ({writer.me}) cannot register a version of it",
            hint="sign with the owner's account, or register your data as a new asset", options=("account",))
    if parent.status != AssetStatus.Active:
        raise RegistrationError(
            f"asset {asset_id} is {status_name(parent.status)}: a new version needs an Active parent",
            hint=when_active(parent) or "wait until the asset is Active again")
    recorded = recorded_manifest(registry, "0x" + parent.manifest_hash.hex())
    if options is None and recorded is not None:
        options = _options_like(recorded, salt_secret)
    options = _seal_options(options, salt_secret)
    base = recorded
    metadata = _metadata(
        title if title is not None else (base.title if base else None),
        description if description is not None else (base.description if base else ""),
        rights if rights is not None else (base.rights_type if base else _rights_of(parent.rights_type)),
        licence if licence is not None else (base.licence if base else None),
        source if source is not None else (base.source if base else None),
    )
    level = parent.classification if classification is None else classification
    _check_registration_values(level, valid_until)
    sealed = _seal(Path(path), options, metadata, registry.data_dir, progress,
                   check=lambda manifest: _verify_registrable(writer, manifest, Path(path), asset_id, valid_until),
                   keep=lambda old: _verify_seal_replaceable(writer, old, Path(path), options, asset_id, replace_seal),
                   tree_dump=tree_dump)
    at_moment(hook, "sealed")
    return _register_sealed(writer, Path(path), sealed, classification=level, valid_until=valid_until,
                            parent_id=asset_id, clock=clock or Clock(), hook=hook, certificate=certificate,
                            progress=progress)


def _register_sealed(writer: Writer, path: Path, sealed: _Sealed, *, classification: int, valid_until: int,
                     parent_id: int, clock: Clock, hook: Hook | None,
                     certificate: CertificateOptions | None, progress: ProgressCallback | None) -> RegistrationResult:
    manifest = sealed.manifest
    root, manifest_hash = bytes.fromhex(manifest.tree.root[2:]), manifest.hash
    client = writer.contracts.registry
    key = writer.key("register", manifest.tree.root)

    def mine() -> Asset | None:
        return _get_my_registration(writer, manifest, parent_id)

    asset = mine()
    already = asset is not None
    if asset is None:
        # an earlier registration of this root that no longer holds it (cancelled, cooled): this one is new
        writer.outbox.retire_undone(key, lambda: mine() is not None)
    resumed = writer.outbox.get(key) is not None
    wait = ChainWait(writer, clock, progress)
    if asset is None:
        _verify_root_free(writer, root, manifest, path, parent_id)
        salt = commit(writer, root, wait) if client.commit_required() else ZERO32
        registration = Registration(root, manifest_hash, manifest.rights_bitmask, classification, parent_id,
                                    valid_until)
        payload = {"contentRoot": manifest.tree.root, "manifestHash": manifest.hash_hex, "parentId": parent_id}

        def send() -> Any:
            if parent_id:
                return client.submit_register_version(registration, salt, gas=ESTIMATE)
            return client.submit_register(registration, salt, gas=ESTIMATE)

        delivered = deliver_aged(writer, key, payload, send, lambda: mine() is not None, wait)
        resumed = resumed or delivered.resumed
        record = record_of(writer, delivered, None)
        asset = client.asset(record.asset_id)
    else:
        row = writer.outbox.get(key)
        delivered = Delivered(key, row.tx_hash if row else None, None)
        record = record_of(writer, delivered, asset.asset_id)
        writer.outbox.mark_done(key, tx_hash=record.tx.tx_hash, block_number=record.tx.block_number)
        resumed = True
    tree_path = record_tree(writer.registry, sealed.manifest, sealed.tree_file)
    at_moment(hook, "tree-stored")
    manifest_copy = record_manifest(writer.registry, sealed.manifest, chain_id=writer.deployment.chain_id,
                                    asset_id=asset.asset_id, data_path=path)
    at_moment(hook, "manifest-recorded")
    del manifest_copy
    written = None
    if certificate is not None:
        written = write_certificate(writer, sealed.manifest_path.parent, sealed.manifest, record, certificate, clock)
        at_moment(hook, "certificate-written")
    replaced = None
    if sealed.replaced is not None:
        earlier, archived = sealed.replaced
        held = _get_seal_asset(writer, earlier)
        replaced = ReplacedSeal(archived, held.asset_id if held is not None else None)
    return RegistrationResult(
        asset_id=asset.asset_id, tx_hash=record.tx.tx_hash, block_number=record.tx.block_number,
        content_root=manifest.tree.root, manifest_hash=manifest.hash_hex, manifest_path=sealed.manifest_path,
        stored_tree_path=tree_path, status=status_name(asset.status), owner=asset.owner,
        chain_id=writer.deployment.chain_id, parent_id=parent_id, resumed=resumed, reused_seal=sealed.reused,
        already_registered=already,
        certificate=written,
        tree_dump=sealed.tree_dump,
        reorged=tuple(writer.outbox.reorged),
        replaced_seal=replaced,
    )


def _get_my_registration(writer: Writer, manifest: Manifest, parent_id: int) -> Asset | None:
    """The registration a run registering ``manifest`` is after, if the chain has it: its root, held by my
    registration of this manifest (under this parent)."""
    client = writer.contracts.registry
    holder = client.asset_id_of(bytes.fromhex(manifest.tree.root[2:]))
    if holder is None:
        return None
    asset = client.asset(holder)
    if asset.registrant == writer.me and asset.manifest_hash == manifest.hash and asset.parent_id == parent_id:
        return asset
    return None


def _verify_registrable(writer: Writer, manifest: Manifest, path: Path, parent_id: int, valid_until: int) -> None:
    """Before the seal of ``manifest`` is written: refuse what the chain would refuse (see :func:`_verify_root_free`
    and :func:`verify_validity`), unless the chain already has this very registration (a rerun finishing it)."""
    if _get_my_registration(writer, manifest, parent_id) is None:
        _verify_root_free(writer, bytes.fromhex(manifest.tree.root[2:]), manifest, path, parent_id)
        verify_validity(writer, valid_until)


def verify_validity(writer: Writer, valid_until: int) -> None:
    """Refuse a validity end the chain would refuse: it must come after the notice period that follows the
    registration (and, when commitments are required, after the commitment's minimum age that comes before it)."""
    if valid_until == 0:
        return
    client = writer.contracts.registry
    now = compute_next_block_time(writer.registry)  # what the chain compares with (the latest block's is stale)
    notice = client.notice_period()
    age = client.min_commit_age() if client.commit_required() else 0
    must_exceed = now + notice + age
    if valid_until > must_exceed:
        return
    after = "".join([f" plus the notice period of {notice} s" if notice else "",
                     f" plus the commitment's minimum age of {age} s" if age else ""])
    raise RegistrationError(
        f"the validity end {format_time(valid_until)} must be after {format_time(must_exceed)} (the chain's time "
        f"{format_time(now)}{after}): the chain would refuse the registration",
        hint="give a later end of validity, or none (no expiry)", options=("valid_until",),
        kind=ErrorKind.INVALID_INPUT)


def _get_seal_asset(writer: Writer, manifest: Manifest) -> Asset | None:
    """The asset standing on chain that ``manifest`` registered (its root, held under this manifest's hash), if any."""
    client = writer.contracts.registry
    holder = client.asset_id_of(bytes.fromhex(manifest.tree.root[2:]))
    if holder is None:
        return None
    asset = client.asset(holder)
    return asset if asset.manifest_hash == manifest.hash else None


def _verify_seal_replaceable(writer: Writer, old: Manifest, path: Path, options: SealOptions, parent_id: int,
                             replace_seal: bool) -> None:
    """Refuse to replace the seal ``old`` beside ``path`` by one made another way (``options``) when ``old``
    registered an asset standing on chain, unless ``replace_seal`` or that asset is the parent of this version."""
    if replace_seal:
        return
    asset = _get_seal_asset(writer, old)
    if asset is None or asset.asset_id == parent_id:
        return
    whose = "your" if asset.owner == writer.me else f"{asset.owner}'s"
    manifest_path = default_output_dir(path) / MANIFEST_NAME
    raise RegistrationError(
        f"{manifest_path} is the seal of {whose} asset {asset.asset_id}, which sealed {path} as "
        f"{_describe_recipe(old)}; this registration would seal it as {_describe_options(path, options)}, replace "
        "that seal and register the data again as another asset",
        hint=f"to use asset {asset.asset_id}, seal the data as it did; to register it again anyway, ask for its seal "
        "to be replaced (its manifest is then kept in the data folder's manifests)",
        options=("rows", "salt_secret", "chunk_size", "replace_seal"))


def _verify_root_free(writer: Writer, root: bytes, manifest: Manifest, path: Path, parent_id: int) -> None:
    """Refuse, before anything is sent, a root that another registration holds or that is reserved or cooling;
    when an earlier run's registration of it was mined and a reorganisation dropped it, the refusal says so."""
    try:
        _verify_root_free_now(writer, root, manifest, path, parent_id)
    except RegistrationError as exc:
        row = writer.outbox.get(writer.key("register", manifest.tree.root))
        if row is not None:
            writer.outbox.recheck_mined(row)
        if not writer.outbox.reorged:
            raise
        raise RegistrationError(f"{exc.message} (your earlier registration of it is gone: "
                                f"{'; '.join(writer.outbox.reorged)})", hint=exc.hint, options=exc.options,
                                kind=exc.kind) from None


def _verify_root_free_now(writer: Writer, root: bytes, manifest: Manifest, path: Path, parent_id: int) -> None:
    client = writer.contracts.registry
    holder = client.asset_id_of(root)
    if holder is not None:
        asset = client.asset(holder)
        if holder == parent_id:
            raise RegistrationError(
                f"{path} (root {manifest.tree.root}) is asset {holder} itself: a new version must differ from it",
                hint=f"asset {holder} stands as it is; register a version once the data has changed")
        if asset.registrant == writer.me and asset.manifest_hash == manifest.hash:
            lineage = f", a version of asset {asset.parent_id}" if asset.parent_id else ""
            raise RegistrationError(
                f"{path} (root {manifest.tree.root}) is already registered as your asset {holder}{lineage}, with this "
                f"very manifest ({manifest.hash_hex})", hint=f"the registration stands as it is: use asset {holder}")
        if asset.registrant == writer.me:
            raise RegistrationError(
                f"{path} (root {manifest.tree.root}) is already registered as your asset {holder}, with manifest hash "
                f"0x{asset.manifest_hash.hex()}; this manifest hashes to {manifest.hash_hex} (its title, rights or "
                "other description differ)",
                hint=f"the registration stands as it is: use asset {holder}; changed data is registered as a new "
                "version", options=("title",))
        raise RegistrationError(
            f"{path} (root {manifest.tree.root}) is already registered as asset {holder} by {asset.registrant}, "
            f"who keeps priority while that registration stands",
            hint="if the data is yours, object during its notice period or ask a reviewer to reject it (which frees "
            "the root)")
    reservation = client.reservation_of(root)
    if reservation is not None and reservation.beneficiary != writer.me:
        if reservation.beneficiary is None:
            raise RegistrationError(
                f"root {manifest.tree.root} of {path} is cooling after a cancellation: nobody may register it before "
                f"{format_time(reservation.until)}", hint="register it after that time")
        raise RegistrationError(
            f"root {manifest.tree.root} of {path} is reserved for {reservation.beneficiary} until "
            f"{format_time(reservation.until)} (a reviewer freed it for its true owner)",
            hint="only that account may register it before then")


# ---------------------------------------------------------------------------------- sealing


@dataclass(frozen=True)
class _Sealed:
    manifest: Manifest
    manifest_path: Path
    tree_file: Path
    reused: bool
    replaced: tuple[Manifest, Path] | None = None
    """The earlier seal's manifest this seal replaced, and where the data folder keeps it."""
    tree_dump: Path | None = None


def _seal_options(options: SealOptions | None, salt_secret: bytes | None) -> SealOptions:
    if options is None:
        return SealOptions(rows=True, secret=salt_secret) if salt_secret is not None else SealOptions()
    if salt_secret is not None and options.secret is None:
        return SealOptions(rows=True, table_format=options.table_format, secret=salt_secret,
                           salt_context=options.salt_context)
    return options


def _metadata(title: str | None, description: str, rights: Sequence[str], licence: str | None,
              source: str | None) -> ManifestMetadata:
    try:
        return ManifestMetadata(title=title, description=description, rights_type=tuple(rights),  # type: ignore[arg-type]
                                licence=licence, source=source)
    except Exception as exc:
        raise ManifestError(f"invalid description of the data: {exc}".splitlines()[0],
                            hint="give a title, rights among holding, processing and operation, and text for the rest",
                            options=("rights_type",)) from None


def _check_registration_values(classification: int, valid_until: int) -> None:
    if isinstance(classification, bool) or classification not in CLASSIFICATIONS.values():
        raise InvalidInput(f"classification {classification!r} is not a level",
                           hint="give 0 public, 1 general, 2 important or 3 core", options=("classification",))
    if isinstance(valid_until, bool) or not isinstance(valid_until, int) or not 0 <= valid_until < 2**64:
        raise InvalidInput(f"the validity end {valid_until!r} is not a unix time",
                           hint="give a time in seconds since 1970, or 0 for no expiry", options=("valid_until",))


def _rights_of(bitmask: int) -> tuple[RightsName, ...]:
    names: tuple[RightsName, ...] = ("holding", "processing", "operation")
    return tuple(name for i, name in enumerate(names) if bitmask & (1 << i)) or ("holding",)


def _options_like(manifest: Manifest, salt_secret: bytes | None) -> SealOptions:
    """Seal options for a new version of the data ``manifest`` sealed (a fresh salt nonce)."""
    content = manifest.content
    if isinstance(content, FileContent):
        return SealOptions(chunk_size=content.chunk_size)
    if isinstance(content, FolderContent):
        return SealOptions(symlinks=content.symlinks, special=content.special)
    if content.salt is not None and salt_secret is None:
        raise SealError(f"asset {manifest.title!r} was sealed with per-row salts: its new version is too",
                        hint="give the salt secret", options=("salt_secret",))
    return SealOptions(rows=True, table_format=content.format, secret=salt_secret if content.salt else None,
                       salt_context=content.salt.context if content.salt else "")


def _same_recipe(manifest: Manifest, path: Path, options: SealOptions) -> bool:
    """Whether ``options`` would seal ``path`` the way ``manifest`` did (its salt nonce aside)."""
    content = manifest.content
    expected = "folder" if path.is_dir() else ("table" if options.rows else "file")
    if content.kind != expected:
        return False
    if isinstance(content, FileContent):
        return content.chunk_size == options.chunk_size
    if isinstance(content, FolderContent):
        return (content.symlinks, content.special) == (options.symlinks, options.special)
    assert isinstance(content, TableContent)
    if options.table_format is not None and options.table_format != content.format:
        return False
    if (content.salt is not None) != (options.secret is not None):
        return False
    return content.salt is None or content.salt.context == options.salt_context


def _seal(path: Path, options: SealOptions, metadata: ManifestMetadata, data_dir: Path,
          progress: ProgressCallback | None, *, check: Callable[[Manifest], None], keep: Callable[[Manifest], None],
          tree_dump: bool) -> _Sealed:
    """Seal ``path`` into ``PATH.dataseal/`` (reusing a seal there that still matches the data) and store its tree
    under the data folder. ``check(manifest)`` runs once the manifest is known and before anything is written (it
    raises to refuse the registration: the seal beside the data and the data folder stay as they were);
    ``keep(old)`` runs before the data is read when the seal there was made another way (it raises when that seal
    must stay); ``tree_dump``: also write OpenZeppelin's dump, ``tree.json``, beside the manifest."""
    if not os.path.lexists(path):
        raise SealError(f"{path} does not exist", hint="check the path", kind=ErrorKind.NOT_FOUND)
    out = default_output_dir(path)
    manifest_path = out / MANIFEST_NAME
    trees = data_dir / TREES_DIRNAME
    old: Manifest | None = None
    if manifest_path.exists():
        try:
            old = read_manifest(manifest_path)
        except ManifestError:
            old = None
    if old is not None and _same_recipe(old, path, options):
        with compute_tree(path, manifest_options(old, secret=options.secret), temp_dir=out,
                          progress=progress) as computed:
            if computed.tree.root_hex == old.tree.root:
                manifest = build_manifest(metadata, old.content, old.tree)
                check(manifest)
                tree_file = _write_tree(trees, computed)
                if manifest.hash_hex == old.hash_hex:
                    if tree_dump:
                        _write_seal(out, None, computed, progress)
                    return _Sealed(old, manifest_path, tree_file, reused=True,
                                   tree_dump=out / TREE_NAME if tree_dump else None)
                archived = archive(data_dir, old)
                _write_seal(out, manifest, computed if tree_dump else None, progress)
                return _Sealed(manifest, manifest_path, tree_file, reused=True, replaced=(old, archived),
                               tree_dump=out / TREE_NAME if tree_dump else None)
    elif old is not None:
        keep(old)
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    try:
        with compute_tree(path, options, temp_dir=out, progress=progress) as computed:
            manifest = build_manifest(metadata, computed.content, tree_info(computed))
            check(manifest)
            replaced = (old, archive(data_dir, old)) if old is not None else None
            tree_file = _write_tree(trees, computed)
            _write_seal(out, manifest, computed if tree_dump else None, progress)
    except BaseException:
        if created:
            with contextlib.suppress(OSError):
                out.rmdir()  # only when empty: a refused first registration leaves nothing beside the data
        raise
    if not tree_dump:
        stale = out / TREE_NAME  # an earlier seal's dump: not of this manifest
        if stale.is_file() and not stale.is_symlink():
            stale.unlink()
    return _Sealed(manifest, manifest_path, tree_file, reused=False, replaced=replaced,
                   tree_dump=out / TREE_NAME if tree_dump else None)


def _describe_recipe(manifest: Manifest) -> str:
    """How ``manifest``'s data was sealed, in words ("a file in chunks of 1048576 bytes", "a csv table by salted
    rows")."""
    content = manifest.content
    if isinstance(content, FileContent):
        return f"a file in chunks of {content.chunk_size} bytes"
    if isinstance(content, FolderContent):
        return f"a folder by files (symlinks: {content.symlinks}, special files: {content.special})"
    assert isinstance(content, TableContent)
    salted = "rows" if content.salt is None else \
        f"salted rows{f' (salt context {content.salt.context!r})' if content.salt.context else ''}"
    return f"a {content.format} table by {salted}"


def _describe_options(path: Path, options: SealOptions) -> str:
    """How ``options`` seal ``path``, in the words of :func:`_describe_recipe`."""
    if path.is_dir():
        return f"a folder by files (symlinks: {options.symlinks}, special files: {options.special})"
    if not options.rows:
        return f"a file in chunks of {options.chunk_size} bytes"
    salted = "rows" if options.secret is None else \
        f"salted rows{f' (salt context {options.salt_context!r})' if options.salt_context else ''}"
    table = f"{options.table_format} table" if options.table_format else "table"
    return f"a {table} by {salted}"


def _write_seal(out: Path, manifest: Manifest | None, dump: ComputedTree | None,
                progress: ProgressCallback | None) -> None:
    """Write (together, atomically) the tree dump of ``dump`` and ``manifest`` into the seal's folder ``out``."""
    write_progress = None if progress is None else (lambda done, total: progress("write", done, total))
    with StagedFiles(replace=True, options=("out_dir",)) as stage:
        if dump is not None:
            with stage.open(out / TREE_NAME) as f:
                dump.tree.write_dump(f, write_progress)
        if manifest is not None:
            with stage.open(out / MANIFEST_NAME) as f:
                f.write(manifest.to_text())
        stage.commit()


def _write_tree(trees: Path, computed: ComputedTree) -> Path:
    nodes: bytes = getattr(computed.tree, "nodes")  # noqa: B009 - both tree kinds keep their node buffer
    return write_tree(trees, computed.tree.root_hex, nodes, len(computed.tree))
