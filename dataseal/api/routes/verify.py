"""Verify over HTTP: a file (streamed, or only its chunk digests), a proof, an evidence bundle.

- ``POST /verify/file``: the request body is the file (``application/octet-stream``). It is hashed in chunks of
  ``chunk_size`` bytes as it arrives (:class:`~dataseal.registry.sealing.files.ChunkStreamHasher`), never held
  whole: memory stays at one chunk's running hash and 32 bytes a chunk whatever the file's size. Bodies above
  the app's upload limit (:func:`get_max_upload_bytes`, default :data:`MAX_UPLOAD_BYTES`) are refused with 413.
- ``POST /verify/digests``: the chunk digests a client computed (:class:`~dataseal.api.verify_models.DigestsRequest`),
  so that the data need not leave it. Both answer as
  :func:`~dataseal.registry.services.verify.verify_chunk_digests`: registered asset N exactly, or the nearest
  registered version and which chunks differ.
- ``POST /verify/proof`` and ``POST /verify/bundle``: a proof or evidence bundle document (as ``dataseal check``
  reads it), checked offline (:func:`~dataseal.registry.checks.check_document`) and against this registry's
  chain: a proof's root is looked up among the registrations; a bundle's record is checked with
  :func:`~dataseal.registry.services.evidence.check_on_chain`, trusting this registry's deployment. A document
  that does not parse is bad input (4xx); one that parses and fails a check answers 200 with ``ok: false`` and
  the check that failed.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Final

from fastapi import APIRouter, Body, Query, Request
from starlette.concurrency import run_in_threadpool

from dataseal.api.deps import JSON_ONLY as JSON_ONLY  # JSON_ONLY and its answer: moved, still importable from here
from dataseal.api.deps import JSON_ONLY_RESPONSES as JSON_ONLY_RESPONSES
from dataseal.api.deps import UnsupportedContentType as UnsupportedContentType
from dataseal.api.deps import (
    answer_from_cache,
    as_utf8_text,
    json_object_body,
    read_json_object,
    registry_of,
)
from dataseal.api.models import ErrorResponse
from dataseal.api.verify_models import (
    MAX_NAME_LENGTH,
    CertificateCheck,
    ChainOut,
    DigestsRequest,
    DocumentCheck,
    FailureOut,
    FileVerification,
    RegistrationOut,
    UncheckedOut,
)
from dataseal.chain.contracts.logs import LogReader
from dataseal.errors import DatasealError, ErrorKind, InvalidInput
from dataseal.registry.certificates import load_certificate
from dataseal.registry.certificates.verify import compute_certificate_report
from dataseal.registry.checks import CheckReport, check_document, check_loaded
from dataseal.registry.evidence import EvidenceBundle, EvidenceError, Proof, load_document
from dataseal.registry.merkle import ProofError, to_hash
from dataseal.registry.registry import Registry
from dataseal.registry.sealing.files import ChunkDigests, ChunkStreamHasher
from dataseal.registry.sealing.options import DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE
from dataseal.registry.services import evidence
from dataseal.registry.services.assets import status_name
from dataseal.registry.services.verify import verify_chunk_digests

router = APIRouter(tags=["verify"])

#: The largest file ``POST /verify/file`` hashes, unless the app sets ``app.state.max_upload_bytes``.
MAX_UPLOAD_BYTES: Final = 1 << 30
OCTET_STREAM: Final = "application/octet-stream"


#: The largest proof checked on the event loop (:func:`~dataseal.api.deps.answer_from_cache`); a larger one, which
#: only a client making up siblings sends (a tree of 2**64 leaves needs 64), is checked in a worker thread.
ON_LOOP_MAX_BYTES: Final = 64 * 1024

#: Failures of a check that are the service's, not the document's: raised (503, 500), never ``ok: false``.
_SERVICE_KINDS = frozenset({ErrorKind.UNAVAILABLE, ErrorKind.INTERNAL})


class UploadTooLarge(InvalidInput):
    """An upload above the app's limit: HTTP 413."""

    http_status: ClassVar[int] = 413


def _registry(request: Request) -> Registry:
    """The app's registry (:func:`dataseal.api.deps.registry_of`; these routes read their bodies themselves)."""
    return registry_of(request)


def get_max_upload_bytes(request: Request) -> int:
    """The app's upload limit: ``app.state.max_upload_bytes`` when set, else :data:`MAX_UPLOAD_BYTES`."""
    return int(getattr(request.app.state, "max_upload_bytes", MAX_UPLOAD_BYTES))


# ---------------------------------------------------------------------------------------------- files


#: The route that streams its body under its own limit (the app's body limit leaves it out).
VERIFY_FILE_PATH = "/verify/file"


@router.post(
    VERIFY_FILE_PATH,
    summary="Verify a file, streamed",
    response_model=FileVerification,
    openapi_extra={"requestBody": {"required": True, "content": {
        OCTET_STREAM: {"schema": {"type": "string", "format": "binary"}}}}},
    responses={413: {"model": ErrorResponse, "description": "The upload is above the limit"},
               415: {"model": ErrorResponse, "description": "The body is not application/octet-stream"}},
)
async def verify_file(
    request: Request,
    chunk_size: Annotated[int, Query(ge=1, le=MAX_CHUNK_SIZE,
                                     description="Bytes per chunk, as the file was sealed")] = DEFAULT_CHUNK_SIZE,
    name: Annotated[str | None, Query(min_length=1, max_length=MAX_NAME_LENGTH,
                                      description="The file's name, to find the versions registered under it")] = None,
) -> FileVerification:
    """Whether the body (the file's bytes) is exactly a registered asset; if not, the nearest registered version
    and which chunks differ. The file is hashed as it arrives, never held whole."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != OCTET_STREAM:
        raise UnsupportedContentType(
            f"the body is {media_type or 'of no content type'}; this route reads the file's bytes as {OCTET_STREAM}",
            hint=f"send the file's raw bytes with Content-Type: {OCTET_STREAM}, or only its chunk digests as JSON")
    limit = get_max_upload_bytes(request)
    _check_declared_length(request.headers.get("content-length"), limit)
    hasher = ChunkStreamHasher(chunk_size)
    async for piece in request.stream():
        if hasher.size + len(piece) > limit:
            raise _too_large(f"more than {limit:,} bytes", limit)
        await run_in_threadpool(hasher.update, piece)  # hashing off the event loop (small chunks cost per byte)
    chunks = hasher.finish()
    return await run_in_threadpool(_verify_chunks, _registry(request), chunks, name)


@router.post("/verify/digests", summary="Verify a file by its chunk digests", response_model=FileVerification,
             dependencies=JSON_ONLY,
             responses=JSON_ONLY_RESPONSES)
def verify_digests(request: Request, body: DigestsRequest) -> FileVerification:
    """Whether a file with these chunk digests is exactly a registered asset; if not, the nearest registered
    version and which chunks differ. The file itself never leaves the client."""
    return _verify_chunks(_registry(request), body.to_chunk_digests(), body.name, body.asset_id)


def _verify_chunks(registry: Registry, chunks: ChunkDigests, name: str | None,
                   against: int | None = None) -> FileVerification:
    return FileVerification.of(verify_chunk_digests(registry, chunks, name=name, against=against), chunks)


def _check_declared_length(declared: str | None, limit: int) -> None:
    if declared is None:
        return
    if not declared.strip().isdigit():
        raise InvalidInput(f"the Content-Length {declared[:40]!r} is not a number of bytes",
                           hint="send the body's length in bytes, or leave the header out")
    if int(declared) > limit:
        raise _too_large(f"{int(declared):,} bytes", limit)


def _too_large(size: str, limit: int) -> UploadTooLarge:
    return UploadTooLarge(f"the upload is {size}, above this service's limit of {limit:,} bytes",
                          hint="send only the file's chunk digests (the file need not be uploaded to be verified)")


# ---------------------------------------------------------------------------------------------- documents


@router.post("/verify/proof", summary="Check a proof", response_model=DocumentCheck, responses=JSON_ONLY_RESPONSES,
             openapi_extra=json_object_body("A dataseal proof (kind dataseal.proof), as written"))
async def verify_proof(
    request: Request,
    root: Annotated[str | None, Query(description="The root the proof must lead to (0x and 64 hex digits)")] = None,
) -> DocumentCheck:
    """Check a proof offline (value, leaf, siblings, root), then look its root up on this registry's chain."""
    document, raw = await read_json_object(request)  # the hot route: its body read once, not by FastAPI
    text = as_utf8_text(raw)
    if len(raw) > ON_LOOP_MAX_BYTES:  # a proof of some hundred siblings is a few KiB: this one's work is not small
        return await run_in_threadpool(_verify_proof, request, document, text, root)
    return await answer_from_cache(_verify_proof, request, document, text, root)


def _verify_proof(request: Request, document: dict[str, Any], text: bytes | None, root: str | None) -> DocumentCheck:
    expected = _expected_root(root)
    proof = load_document(document, where="the proof", text=text)
    if not isinstance(proof, Proof):
        raise _wrong_document(proof, "a proof (kind dataseal.proof)", "send an evidence bundle to the bundle check")
    report, failure = _checked(lambda: check_loaded(proof, expected))
    if report is None:
        assert failure is not None
        return DocumentCheck(ok=False, kind="proof", root=proof.root, checked=[], failure=failure)
    checked = list(report.checked)
    not_checked = [UncheckedOut.of(item) for item in report.not_checked]
    warnings: list[str] = []
    contracts = _registry(request).context.head_contracts()
    chain_id = contracts.deployment.chain_id
    holder = contracts.registry.asset_id_of(bytes.fromhex(proof.root[2:]))
    registration = None
    if holder is None:
        not_checked.append(UncheckedOut(what=f"that root {proof.root} is registered: no registration on chain "
                                        f"{chain_id} of this registry holds it", options=["root"]))
    else:
        asset = contracts.registry.asset(holder)
        status = status_name(asset.status)
        registration = RegistrationOut(asset_id=holder, status=status, owner=asset.owner,
                                       manifest_hash="0x" + asset.manifest_hash.hex())
        checked.append(f"root {proof.root} is registered as asset {holder} on chain {chain_id} ({status})")
        not_checked = [item for item in not_checked if "root" not in item.options]
        if status != "Active":
            warnings.append(f"asset {holder} is {status}")
        if proof.manifest_hash is not None and proof.manifest_hash != registration.manifest_hash:
            warnings.append(f"the proof names manifest {proof.manifest_hash}, but asset {holder} was registered with "
                            f"manifest {registration.manifest_hash}")
    return DocumentCheck(ok=True, kind="proof", root=proof.root, subject=report.subject, checked=checked,
                         not_checked=not_checked, warnings=warnings, registration=registration)


@router.post("/verify/bundle", summary="Check an evidence bundle", response_model=DocumentCheck,
             dependencies=JSON_ONLY,
             responses=JSON_ONLY_RESPONSES)
def verify_bundle(
    request: Request,
    document: Annotated[dict[str, Any], Body(description="A dataseal evidence bundle (kind dataseal.evidence)")],
) -> DocumentCheck:
    """Check an evidence bundle offline (manifest hash, record, proofs, grant scope), then its record on this
    registry's chain, trusting this registry's deployment of the AssetRegistry."""
    bundle = load_document(document, where="the bundle")
    if not isinstance(bundle, EvidenceBundle):
        raise _wrong_document(bundle, "an evidence bundle (kind dataseal.evidence)",
                              "send a proof to the proof check")
    root = bundle.manifest.tree.root
    report, failure = _checked(lambda: check_document(document, where="the bundle"))
    if report is None:
        assert failure is not None
        return DocumentCheck(ok=False, kind="evidence", root=root, checked=[], failure=failure)
    checked = list(report.checked)
    not_checked = [UncheckedOut.of(item) for item in report.not_checked]
    context = _registry(request).context
    deployment = context.deployment()
    trusted = evidence.TrustedRegistry(deployment.asset_registry,
                                       f"this registry's deployment on chain {deployment.chain_id}")
    try:
        on_chain = evidence.check_on_chain(bundle, context.connection, trusted)
    except DatasealError as exc:
        if exc.kind in _SERVICE_KINDS:
            raise
        return DocumentCheck(ok=False, kind="evidence", root=root, checked=checked, not_checked=not_checked,
                             failure=FailureOut.of(exc))
    return DocumentCheck(
        ok=True, kind="evidence", root=root, checked=[*checked, *(f"chain: {line}" for line in on_chain.checked)],
        not_checked=[item for item in not_checked if not item.what.startswith("chain:")],
        warnings=list(on_chain.warnings),
        chain=ChainOut(status=on_chain.status, holds_root=on_chain.holds_root, trusted_by=on_chain.trusted))


@router.post("/verify/certificate", summary="Check a certificate against the chain, field by field",
             response_model=CertificateCheck, dependencies=JSON_ONLY, responses=JSON_ONLY_RESPONSES)
def verify_certificate(
    request: Request,
    document: Annotated[dict[str, Any], Body(description="A dataseal certificate (kind dataseal.certificate), its "
                                                         "JSON as issued")],
) -> CertificateCheck:
    """Every field of the certificate recomputed from the chain as of its block and compared, its manifest checked
    through the manifest hash on chain, both numbers through their check characters, its verify URL against this
    registry's; then whether the asset still stands as it says (status, owner, term at the latest block). A
    document that is not a certificate is bad input (400); one whose fields differ answers 200 with ``ok: false``."""
    cert = load_certificate(document, where="the certificate")
    registry = _registry(request)
    context = registry.context
    reader = LogReader(context.connection.w3, endpoint=context.connection.endpoint)
    report = compute_certificate_report(cert, context.head_contracts(), reader, base_url=registry.settings.base_url)
    return CertificateCheck.of(report)


def _expected_root(root: str | None) -> str | None:
    if root is None:
        return None
    try:
        return "0x" + to_hash(root, "the expected root").hex()
    except ProofError as exc:
        raise InvalidInput(exc.message, hint=exc.hint, options=("root",)) from None


def _checked(check: Callable[[], CheckReport]) -> tuple[CheckReport | None, FailureOut | None]:
    """``check()``'s report, or the check that failed (a failure of the service itself is raised)."""
    try:
        return check(), None
    except DatasealError as exc:
        if exc.kind in _SERVICE_KINDS:
            raise
        return None, FailureOut.of(exc)


def _wrong_document(document: object, expected: str, hint: str) -> EvidenceError:
    kind = getattr(document, "kind", type(document).__name__)
    return EvidenceError(f"the document is a {kind}, not {expected}", hint=hint)
