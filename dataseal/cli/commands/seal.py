"""`dataseal seal | prove | check`: Merkle-seal a file, folder or table; prove one part; check proofs offline."""
from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from dataseal.chain.connection import connect
from dataseal.chain.files import check_output
from dataseal.cli.options import CHAIN_ID, DATA_DIR, RPC, settings
from dataseal.cli.output import JSON, emit, note
from dataseal.errors import ErrorKind
from dataseal.registry.checks import Unchecked, check_document_file
from dataseal.registry.evidence import EvidenceBundle, describe_subject, read_document
from dataseal.registry.manifest import ManifestError, ManifestMetadata, parse_rights, read_manifest
from dataseal.registry.merkle import to_hash
from dataseal.registry.registry import Registry
from dataseal.registry.sealing import ProgressCallback, SealOptions, parse_size
from dataseal.registry.sealing.atomic import atomic_writer
from dataseal.registry.sealing.seal import MANIFEST_NAME, default_output_dir, seal
from dataseal.registry.sealing.tables import read_secret
from dataseal.registry.services import evidence
from dataseal.registry.services.commitments import COMMIT_AGE_PHASE

SALT_SECRET = typer.Option(
    None, "--salt-secret", metavar="FILE",
    help="File holding the owner's secret (its exact bytes, at least 16; e.g. `head -c 32 /dev/urandom`). Rows get "
    "per-row HMAC salts, so a public root does not let anyone test guesses of low-entropy rows; each seal draws a "
    "random nonce (kept in the manifest), so a salt disclosed by one row proof says nothing about other tables or "
    "seals made with the same secret. Keep the file and the manifest: proving a row needs both.",
)


def _force_option(what: str) -> Any:
    """--force: replace what an earlier run wrote (never a read-only file, a link, a device or a FIFO)."""
    return typer.Option(
        False, "--force", help=f"Replace {what} if it exists (atomically; the new file keeps the old one's "
        "permissions). A read-only file is refused even then (make it writable first if it is to go), and a "
        "symlink, device or FIFO is never written.",
    )


def _data_argument(metavar: str, help: str) -> Any:
    """The data a command reads: required, so there is no default to show."""
    return typer.Argument(metavar=metavar, help=help, show_default=False)


def _out_option(metavar: str, help: str) -> Any:
    """-o/--out: where a command writes (a folder for seal, a file for prove)."""
    return typer.Option("-o", "--out", metavar=metavar, help=help)


def seal_command(
    path: Annotated[Path, _data_argument(
        "PATH", "A file, a folder, or (with --rows) a CSV / JSON Lines / Parquet table."
    )],
    out_dir: Annotated[Path | None, _out_option(
        "DIR", "Folder for manifest.json and tree.json. Default: PATH.dataseal beside the data."
    )] = None,
    chunk_size: str = typer.Option(
        "1MiB", "--chunk-size", metavar="N", help="Bytes per chunk of a file (1048576, 64KiB, 4MiB, ...)."
    ),
    rows: bool = typer.Option(False, "--rows", help="Seal a table's rows (one leaf per row) instead of its bytes."),
    table_format: str | None = typer.Option(
        None, "--format", metavar="FORMAT", help="Table format with --rows: csv, jsonl or parquet. Default: from the "
        "extension.",
    ),
    salt_secret: Path | None = SALT_SECRET,
    salt_context: str = typer.Option(
        "", "--salt-context", metavar="TEXT", help="Optional label mixed into the salts (recorded in the manifest). "
        "Not needed to keep tables apart: every seal's random nonce already does.",
    ),
    title: str | None = typer.Option(
        None, "--title", metavar="TEXT", help="Title in the manifest. Default: the name of PATH."
    ),
    description: str = typer.Option("", "--description", metavar="TEXT", help="Description in the manifest."),
    rights: str = typer.Option(
        "holding", "--rights", metavar="LIST", help="Rights being registered, comma-separated: holding (数据资源持有), "
        "processing (数据加工使用), operation (数据产品经营).",
    ),
    licence: str | None = typer.Option(
        None, "--licence", "--license", metavar="TEXT", help="Licence of the data (e.g. CC-BY-4.0)."
    ),
    source: str | None = typer.Option(
        None, "--source", metavar="TEXT", help="Where the data comes from (URL, system, person)."
    ),
    symlinks: str = typer.Option(
        "refuse", "--symlinks", metavar="POLICY", help="Symlinks in a folder: refuse (default), skip, or follow "
        "(links leaving the folder are refused even then).",
    ),
    skip_special: bool = typer.Option(
        False, "--skip-special", help="Leave devices, FIFOs and sockets of a folder out instead of refusing them."
    ),
    force: bool = _force_option("the manifest.json and tree.json of an earlier seal in DIR"),
    as_json: bool = JSON,
) -> None:
    """Seal data: compute its Merkle root and write its manifest and tree.

    A file is cut into chunks (leaf = chunk index, sha256 of the chunk); a folder gives one leaf per
    file (path, size, sha256); a table with --rows gives one leaf per row (row index, sha256 of the
    row's canonical JSON, salted with --salt-secret and a fresh random nonce recorded in the manifest,
    so sealing the same table twice gives two roots). The tree is OpenZeppelin's StandardMerkleTree
    (standard-v1), so MerkleProof.sol and @openzeppelin/merkle-tree verify its proofs.

    Writes DIR/manifest.json and DIR/tree.json (atomically: an interrupt leaves no half-written file)
    and prints the root, the leaf count and the manifest hash — the two values to register on chain.

    \b
    Examples:
      dataseal seal survey-2024.parquet --rows --salt-secret owner.key --rights holding,processing
      dataseal seal ./images --symlinks skip -o ./seals/images
      dataseal seal backup.tar --chunk-size 4MiB --json
    """
    options = SealOptions(  # checks every setting and how they combine
        rows=rows,
        table_format=table_format,  # type: ignore[arg-type]  # checked by SealOptions
        chunk_size=parse_size(chunk_size),
        secret=read_secret(salt_secret) if salt_secret is not None else None,
        salt_context=salt_context,
        symlinks=symlinks,  # type: ignore[arg-type]  # checked by SealOptions
        special="skip" if skip_special else "refuse",
    )
    metadata = ManifestMetadata(
        title=title, description=description, rights_type=parse_rights(rights), licence=licence, source=source
    )
    with _progress(enabled=not as_json) as progress:
        result = seal(path, options, metadata=metadata, out_dir=out_dir, progress=progress, replace=force)
    manifest = result.manifest
    report = {
        "path": str(path),
        "kind": manifest.content.kind,
        "root": result.root,
        "leaf_count": result.leaf_count,
        "manifest_hash": result.manifest_hash,
        "rights_type": manifest.rights_bitmask,
        "size": manifest.content.size,
        "manifest": str(result.manifest_path),
        "tree": str(result.tree_path),
    }

    def human() -> None:
        unit = {"file": "chunks", "folder": "files", "table": "rows"}[manifest.content.kind]
        print(f"sealed {path} ({manifest.content.kind}, {result.leaf_count:,} {unit}, {manifest.content.size:,} bytes)")
        print(f"root           {result.root}")
        print(f"leaves         {result.leaf_count}")
        print(f"manifest hash  {result.manifest_hash}")
        print(f"manifest       {result.manifest_path}")
        print(f"tree           {result.tree_path}")
        if manifest.content.kind == "folder" and manifest.content.skipped:
            note(f"dataseal: left out {len(manifest.content.skipped)} entries by policy (listed in the manifest)")

    emit(report, as_json, human)


def prove_command(
    path: Annotated[Path, _data_argument("PATH", "The sealed file, folder or table (the data itself).")],
    chunk: int | None = typer.Option(None, "--chunk", metavar="N", help="Prove chunk N of a sealed file."),
    row: int | None = typer.Option(None, "--row", metavar="N", help="Prove row N (0 = first data row) of a table."),
    file: str | None = typer.Option(None, "--file", metavar="REL", help="Prove a file of a sealed folder (path "
                                    "relative to the folder)."),
    out: Annotated[Path | None, _out_option("FILE", "Write the proof here. Default: stdout.")] = None,
    manifest_path: Annotated[Path | None, typer.Option(
        "--manifest", metavar="FILE", help="The manifest written by `dataseal seal`. Default: "
        "PATH.dataseal/manifest.json.",
    )] = None,
    salt_secret: Path | None = SALT_SECRET,
    grant: int | None = typer.Option(None, "--grant", metavar="G", help="Also prove that the part lies inside "
                                     "grant G's scope (the grant's scope root read from the chain, its indexes from "
                                     "the registry that made the grant); the proof goes into the bundle, and "
                                     "`dataseal check` checks it."),
    rpc: str | None = RPC,
    chain_id: int | None = CHAIN_ID,
    data_dir: Path | None = DATA_DIR,
    offline: bool = typer.Option(False, "--offline", help="Do not look for the chain: write the proof alone, "
                                 "without the on-chain record."),
    force: bool = _force_option("the -o FILE"),
    as_json: bool = JSON,
) -> None:
    """Prove one chunk, row or file of sealed data, for someone who does not have the rest.

    Re-reads the data with the manifest's parameters and refuses when its root is no longer the
    sealed one. A row proof discloses that row (its canonical JSON) and its salt, nothing else.
    When the data is registered, writes an evidence bundle: the manifest, the proof and the
    registration as the chain's logs record it. The chain is the one named (--rpc, --data-dir,
    --chain-id or their environment variables: then it must answer), else the default data
    folder's when it records a deployment and its node answers; when it does not, or the data is
    not registered, prove says so in one line and writes the proof alone. --offline skips the
    chain. Check the result with `dataseal check` (--rpc to check the record on any node), with
    @openzeppelin/merkle-tree, or on chain.

    \b
    Examples:
      dataseal prove survey.csv --row 42 --salt-secret owner.key -o row42.bundle.json
      dataseal prove backup.tar --chunk 17 --offline -o chunk17.proof.json
      dataseal prove ./images --file cats/001.jpg --rpc http://127.0.0.1:8545 -o cat.bundle.json
      dataseal prove survey.csv --row 42 --salt-secret owner.key --grant 3 --data-dir .dataseal -o row42.json
    """
    if manifest_path is None:
        manifest_path = default_output_dir(path) / MANIFEST_NAME
        if not manifest_path.exists():
            raise ManifestError(
                f"no manifest for {path} at {manifest_path}",
                hint=f"seal it first (`dataseal seal {path}`), or pass --manifest FILE if you sealed it with -o DIR",
                kind=ErrorKind.NOT_FOUND,
            )
    if out is not None:
        check_output(out, replace=force, options=("out",))  # before the data is read, not after
    manifest = read_manifest(manifest_path)
    secret = read_secret(salt_secret) if salt_secret is not None else None
    cfg = settings(rpc_url=rpc, chain_id=chain_id, data_dir=data_dir)
    named = cfg.rpc_url is not None or bool({"data_dir", "chain_id"} & cfg.model_fields_set)
    if offline and (named or grant is not None):
        given = "--grant" if grant is not None else "--rpc, --data-dir or --chain-id"
        raise typer.BadParameter(f"--offline does not look for the chain, which {given} needs: give one or the "
                                 "other", param_hint="--offline")
    with ExitStack() as stack:
        registry, no_chain = None, "the chain was not asked (offline)"
        if named or grant is not None:  # a chain named (or a grant's scope to read): it must answer
            registry = stack.enter_context(Registry(cfg))
        elif not offline:  # the default data folder's chain, if it answers
            found = evidence.open_default_registry(cfg)
            registry = stack.enter_context(found.registry) if found.registry is not None else None
            no_chain = f"the chain could not be asked: {found.missing}"
        progress = stack.enter_context(_progress(enabled=not as_json and out is not None))
        result = evidence.prove(registry, path, manifest, chunk=chunk, row=row, file=file, secret=secret,
                                grant=grant, progress=progress, no_chain=no_chain)
    proof, bundle = result.proof, result.bundle
    document = bundle.to_json_data() if bundle is not None else proof.to_json_data()
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    alone = f"dataseal: no chain record: {result.unregistered}; wrote the proof alone"
    if out is None:
        sys.stdout.write(text)
        if result.unregistered and not offline:
            note(alone)
        return
    with atomic_writer(out, replace=force, options=("out",)) as f:
        f.write(text)
    scope = result.scope
    record = bundle.record if bundle is not None else None
    report: dict[str, Any] = {
        "proof": str(out), "kind": "evidence" if bundle is not None else "proof", "root": proof.root,
        "leaf": proof.leaf, "subject": describe_subject(proof), "siblings": len(proof.proof),
        "asset_id": record.asset.asset_id if record is not None and record.asset is not None else None,
        "tx_hash": record.tx_hash if record is not None else None, "unregistered": result.unregistered,
        "scope": None if scope is None else {"grant_id": scope.grant_id, "scope_root": scope.scope_root,
                                             "leaf_index": scope.leaf_index},
    }

    def human() -> None:
        siblings = f"{len(proof.proof)} sibling{'' if len(proof.proof) == 1 else 's'}"
        print(f"wrote {out}: {describe_subject(proof)} of {path}, {siblings} to root {proof.root}")
        if record is not None and record.asset is not None:
            print(f"  evidence bundle with the registration of asset {record.asset.asset_id} (tx {record.tx_hash}, "
                  f"block {record.block_number}, chain {record.chain_id})")
        elif not offline:
            note(alone)
        if scope is not None:
            whole = " (the whole asset)" if scope.proof is None else ""
            print(f"  inside the scope of grant {scope.grant_id}: root {scope.scope_root}{whole}")

    emit(report, as_json, human)


def check_command(
    file: Annotated[Path, _data_argument("FILE", "A proof, an evidence bundle, a manifest or a tree dump (JSON).")],
    root: str | None = typer.Option(
        None, "--root", metavar="HEX", help="Also require this root (e.g. the content root registered on chain)."
    ),
    rpc: str | None = typer.Option(
        None, "--rpc", metavar="URL", help="Then check an evidence bundle's record on this node (any JSON-RPC "
        "endpoint of its chain; no database needed): that its contract is the registry you trust (--contract, "
        "or the deployment your data folder records for that chain), the transaction, its block and time, the "
        "event it emitted, and that the registration still stands.", show_default=False,
    ),
    contract: str | None = typer.Option(
        None, "--contract", metavar="ADDRESS", help="With --rpc: the AssetRegistry you trust (as the registry's "
        "operator publishes it). Default: the one your data folder's deployments.json records for the bundle's "
        "chain. With neither, --rpc refuses: the bundle's own word for its contract proves nothing.",
        show_default=False,
    ),
    data_dir: Path | None = DATA_DIR,
    as_json: bool = JSON,
) -> None:
    """Check a proof, evidence bundle, manifest or tree dump offline.

    A proof: its value gives its leaf, its disclosed row (if any) gives its value, and its siblings
    lead to its root (and to --root when given). A bundle: the manifest hash, that the record
    registers this manifest and root, batch membership, and every proof. A tree dump: every node.

    With --rpc, a bundle's record is then checked on that node. Its contract must be the registry
    you trust: anyone can deploy a look-alike dataseal on the same chain and register a copy of
    the data there, so give the registry's address (--contract), or check with a data folder whose
    deployments.json records that chain's deployment (--data-dir, default ./.dataseal); a bundle of
    another contract is refused, naming both. A registration since cancelled or rejected, or that no
    longer holds the root, fails; a pending, disputed, suspended or expired one passes with a
    warning. Exits 1 on failure.

    \b
    Examples:
      dataseal check row42.proof.json --root 0x3f1c...e9
      dataseal check evidence.json --json
      dataseal check evidence.json --rpc https://rpc.example.org --contract 0x5FbDB2315678afecb367f032d93F642f64180aa3
      dataseal check evidence.json --rpc http://127.0.0.1:8545 --data-dir .dataseal
      dataseal check survey.csv.dataseal/tree.json
    """
    if contract is not None and rpc is None:
        raise typer.BadParameter("the registry to trust is checked against a node: give --rpc too",
                                 param_hint="--contract")
    report = check_document_file(file, root=to_hash(root, "--root") if root is not None else None)
    data: dict[str, Any] = {"ok": report.ok, "kind": report.kind, "root": report.root}
    if report.subject is not None:
        data["subject"] = report.subject
    data["checked"] = list(report.checked)
    data["not_checked"] = [_unchecked(item) for item in report.not_checked]
    data["file"] = str(file)
    if rpc is not None:
        document = read_document(file)
        if not isinstance(document, EvidenceBundle):
            raise typer.BadParameter(f"{file} is a {report.kind}: only an evidence bundle has a chain record to check",
                                     param_hint="--rpc")
        cfg = settings(rpc_url=rpc, data_dir=data_dir)
        trusted = evidence.get_trusted_registry(document.record.chain_id, contract=contract, data_dir=cfg.data_dir)
        with connect(rpc, timeout=cfg.rpc_timeout) as connection:
            on_chain = evidence.check_on_chain(document, connection, trusted)
        data["checked"] += [f"chain: {line}" for line in on_chain.checked]
        data["not_checked"] = [line for line in data["not_checked"] if not line.startswith("chain:")]
        data["chain"] = on_chain.to_json()
        for warning in on_chain.warnings:
            note(f"dataseal: warning: {warning}")

    def human() -> None:
        print(f"OK  {file}: {report.kind} for root {report.root}")
        for line in data["checked"]:
            print(f"  checked      {line}")
        for line in data["not_checked"]:
            print(f"  not checked  {line}")

    emit(data, as_json, human)


#: How `check` tells a user to give what would let it check more.
_GIVE = {"root": "--root"}


def _unchecked(item: Unchecked) -> str:
    """A line of ``not checked``: what, and the flag that would check it."""
    flags = [_GIVE[name] for name in item.options if name in _GIVE]
    return f"{item.what} (give {' or '.join(flags)})" if flags else item.what


_PHASES = {"hash": "hashing", "rows": "reading rows", "tree": "building tree", "write": "writing tree",
           COMMIT_AGE_PHASE: "commitment age (chain seconds)"}


@contextmanager
def _progress(*, enabled: bool) -> Iterator[ProgressCallback | None]:
    """A rich progress bar on stderr when it is a terminal (and output is not --json); else no callback."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskID, TaskProgressColumn, TextColumn, TimeRemainingColumn

    columns = (TextColumn("{task.description:<14}"), BarColumn(), TaskProgressColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def update(phase: str, done: int, total: int | None) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(_PHASES.get(phase, phase), total=total)
            bar.update(tasks[phase], completed=done, total=total)

        yield update


def register(app: typer.Typer) -> None:
    app.command("seal")(seal_command)
    app.command("prove")(prove_command)
    app.command("check")(check_command)

