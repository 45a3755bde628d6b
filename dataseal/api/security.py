"""Who may write over the HTTP API, and how a write is answered once.

A write is made either by a request **signed by the acting address** (the service never sees a user's private
key) or by an operator holding an **API key**. Reads need neither. :func:`require_writer` is the FastAPI
dependency that checks either and answers the :class:`Writer`; :func:`idempotency` (``IdempotencyDep``) answers a
retried write the way it was answered the first time.

Signed requests
---------------
Three headers:

- ``X-Dataseal-Address``: the signer's address, ``0x`` and 40 hex digits (a mixed-case address must be a valid
  EIP-55 checksum);
- ``X-Dataseal-Timestamp``: when the request was signed, in Unix seconds, decimal digits (no sign, no leading
  zero);
- ``X-Dataseal-Signature``: ``0x`` and 130 hex digits, the 65 bytes ``r ‖ s ‖ v`` (``v`` 27 or 28, or 0 or 1;
  ``s`` in the lower half of the curve order, as every Ethereum library signs).

The signature is an EIP-191 version ``0x45`` signature (``personal_sign``, ``eth_sign``,
``signMessage`` of ethers/viem, ``Account.sign_message(encode_defunct(text=…))`` of eth-account), that is an ECDSA
signature of ``keccak256("\\x19Ethereum Signed Message:\\n" + len(text) + text)``, of this UTF-8 text: seven lines
joined by ``\\n`` (line feed), with no line feed at the end::

    dataseal request
    {chain id}
    {host}
    {METHOD}
    {path with query}
    {body sha256}
    {timestamp}

- ``chain id``: the id of the chain the API writes to, in decimal (``GET /health`` shows it);
- ``host``: the request's ``Host`` header in lower case: the URL's host name, then ``:port`` unless the port is the
  scheme's default (``127.0.0.1:8000``, ``registry.example.org``);
- ``METHOD``: the HTTP method in upper case (``POST``);
- ``path with query``: the request target as sent on the request line: the path, percent-encoded exactly as sent,
  then ``?`` and the query string as sent when there is one (``/grants?dry_run=1``);
- ``body sha256``: the SHA-256 of the body's bytes exactly as sent, 64 lower-case hex digits (with no body, the hash
  of nothing: ``e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855``);
- ``timestamp``: the ``X-Dataseal-Timestamp`` header's value.

The chain id and the host keep a request signed for one deployment from being replayed to another. A signed
request is accepted when its timestamp is within :data:`SIGNATURE_WINDOW_SECONDS` (300 s) of the server's clock,
the signature recovers to the address of ``X-Dataseal-Address``, and the same address has not sent the same text
before (replay protection: the hash of the address and the text is recorded in the database until the window has
passed). A retry is therefore signed again, with a new timestamp (a later second), and carries the same
``Idempotency-Key`` as the first attempt.

Answers: a header missing (when another of the three is given) or malformed is a 400; a timestamp outside the
window, a signature that does not recover or recovers to another address, a 401 (:class:`Unauthorized`); a
replayed request, a 409 (:class:`ReplayedRequest`).

Operator API keys
-----------------
``Authorization: Bearer <key>``. Keys are made with :func:`create_api_key` (the key is returned once: only its
SHA-256 is stored, with a name), listed with :func:`list_api_keys` and revoked with :func:`revoke_api_key`. An
unknown or revoked key is a 401. A request gives either a key or a signature, not both (400).

Idempotency
-----------
A write may carry ``Idempotency-Key: <1 to 255 printable ASCII characters, no space>``. Keys belong to their
writer (an address, or an API key: the key itself, not its name, so that a key made again under a revoked key's
name starts afresh). The first answer to a write with a key is stored (status and JSON body);
the same key with the same request (method, path with query and body sha256) is answered again with the stored
answer and the header ``Idempotent-Replayed: true``; the same key with another request is a 409
(:class:`IdempotencyConflict`). Stored answers older than :data:`IDEMPOTENCY_TTL` (24 h) may be purged
(:func:`purge_idempotent_responses`).
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, ClassVar, Literal

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from eth_keys.constants import SECPK1_N
from eth_utils import is_checksum_address, to_checksum_address
from fastapi import Depends, Request, Security
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from starlette.concurrency import run_in_threadpool

from dataseal.errors import Conflict, InvalidInput, NotFound
from dataseal.registry.db import Database
from dataseal.registry.db.models.api import ApiKey, ApiKeyPublic, IdempotentResponse, SeenRequest
from dataseal.registry.registry import Registry

HEADER_ADDRESS = "X-Dataseal-Address"
HEADER_TIMESTAMP = "X-Dataseal-Timestamp"
HEADER_SIGNATURE = "X-Dataseal-Signature"
HEADER_AUTHORIZATION = "Authorization"
HEADER_IDEMPOTENCY_KEY = "Idempotency-Key"
HEADER_IDEMPOTENT_REPLAYED = "Idempotent-Replayed"
#: The first line of every signed text: a signature over it cannot be mistaken for any other dataseal message.
MESSAGE_TAG = "dataseal request"
#: How far a signed request's timestamp may be from the server's clock, either way.
SIGNATURE_WINDOW_SECONDS = 300
#: How long a stored idempotent answer is kept (at least).
IDEMPOTENCY_TTL = timedelta(hours=24)
#: What an API key starts with (so that it is recognised in a configuration file or a leak scanner).
API_KEY_PREFIX = "dsk_"
EMPTY_BODY_SHA256 = hashlib.sha256(b"").hexdigest()

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_TIMESTAMP = re.compile(r"0|[1-9][0-9]{0,11}")
_SIGNATURE = re.compile(r"0x[0-9a-fA-F]{130}")
_API_KEY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_API_KEY = re.compile(re.escape(API_KEY_PREFIX) + r"[A-Za-z0-9_-]{43}")
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")

SIGN_HINT = ("sign the request with the acting address (the headers X-Dataseal-Address, X-Dataseal-Timestamp and "
             "X-Dataseal-Signature, as the API's documentation describes), or give an operator API key "
             "(Authorization: Bearer <key>)")


class Unauthorized(InvalidInput):
    """The request's credentials are refused (a bad or expired signature, an unknown or revoked API key).

    Its kind is INVALID_INPUT; an HTTP front door answers it with :attr:`status` (401), not 400."""

    http_status: ClassVar[int] = 401


class ReplayedRequest(Conflict):
    """A signed request the API has already accepted, sent again."""


class IdempotencyConflict(Conflict):
    """An ``Idempotency-Key`` already used by this writer for another request."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def compute_body_sha256(body: bytes) -> str:
    """The lower-case hex SHA-256 of ``body``."""
    return hashlib.sha256(body).hexdigest()


# ---------------------------------------------------------------------------------- signed requests


def compute_request_message(*, chain_id: int, host: str, method: str, path: str, body: bytes, timestamp: int) -> str:
    """The text a signed request's signature covers (see the module's documentation); ``path`` is the path with its
    query, as sent on the request line."""
    if timestamp < 0:
        raise InvalidInput(f"a request's timestamp is Unix seconds, 0 or more, got {timestamp}",
                           hint="give the time the request is signed at")
    return "\n".join((MESSAGE_TAG, str(chain_id), host.lower(), method.upper(), path, compute_body_sha256(body),
                      str(timestamp)))


def sign_request(account: LocalAccount, method: str, path: str, body: bytes, timestamp: int, *, chain_id: int,
                 host: str) -> dict[str, str]:
    """The headers that make a request signed by ``account`` (for clients and tests; the service never calls it)."""
    message = compute_request_message(chain_id=chain_id, host=host, method=method, path=path, body=body,
                                      timestamp=timestamp)
    signed = account.sign_message(encode_defunct(text=message))
    return {HEADER_ADDRESS: account.address, HEADER_TIMESTAMP: str(timestamp),
            HEADER_SIGNATURE: "0x" + bytes(signed.signature).hex()}


@dataclass(frozen=True)
class SignedHeaders:
    """The three headers of a signed request, checked for form."""

    address: str
    """Checksummed."""
    timestamp: int
    signature: bytes
    """65 bytes, ``v`` 27 or 28."""


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def has_signed_headers(headers: Mapping[str, str]) -> bool:
    """Whether any of the three headers of a signed request is present."""
    return any(_header(headers, name) is not None for name in (HEADER_ADDRESS, HEADER_TIMESTAMP, HEADER_SIGNATURE))


def parse_signed_headers(headers: Mapping[str, str]) -> SignedHeaders:
    """The signed request's headers, or :class:`InvalidInput` (400) naming the one missing or malformed."""
    values = {name: _header(headers, name) for name in (HEADER_ADDRESS, HEADER_TIMESTAMP, HEADER_SIGNATURE)}
    missing = [name for name, value in values.items() if value is None]
    if missing:
        raise InvalidInput(f"a signed request needs the headers {HEADER_ADDRESS}, {HEADER_TIMESTAMP} and "
                           f"{HEADER_SIGNATURE}; {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing",
                           hint=SIGN_HINT, options=tuple(missing))
    address, timestamp, signature = (values[HEADER_ADDRESS] or "", values[HEADER_TIMESTAMP] or "",
                                     values[HEADER_SIGNATURE] or "")
    if not _ADDRESS.fullmatch(address):
        raise InvalidInput(f"{HEADER_ADDRESS} must be 0x and 40 hex digits, got {_shown(address)}",
                           hint="give the address that signs the request", options=(HEADER_ADDRESS,))
    if address != address.lower() and address[2:] != address[2:].upper() and not is_checksum_address(address):
        raise InvalidInput(f"{HEADER_ADDRESS} {address} is in mixed case but not a valid EIP-55 checksum "
                           f"(expected {to_checksum_address(address)})",
                           hint="give the address in lower case or with its checksum", options=(HEADER_ADDRESS,))
    if not _TIMESTAMP.fullmatch(timestamp):
        raise InvalidInput(f"{HEADER_TIMESTAMP} must be Unix seconds in decimal digits, got {_shown(timestamp)}",
                           hint="give the time the request is signed at, as a whole number of seconds since "
                                "1970-01-01 UTC", options=(HEADER_TIMESTAMP,))
    if not _SIGNATURE.fullmatch(signature):
        hex_digits = signature.startswith("0x") and re.fullmatch(r"[0-9a-fA-F]*", signature[2:]) is not None
        got = f"{len(signature) - 2} hex digits" if hex_digits else _shown(signature)
        raise InvalidInput(f"{HEADER_SIGNATURE} must be 0x and 130 hex digits (65 bytes r, s, v), got {got}",
                           hint="give the EIP-191 signature of the request's text", options=(HEADER_SIGNATURE,))
    raw = bytes.fromhex(signature[2:])
    v = raw[64] + 27 if raw[64] in (0, 1) else raw[64]
    if v not in (27, 28):
        raise InvalidInput(f"{HEADER_SIGNATURE}'s recovery byte v must be 27 or 28 (or 0 or 1), got {raw[64]}",
                           hint="give the EIP-191 signature of the request's text", options=(HEADER_SIGNATURE,))
    return SignedHeaders(to_checksum_address(address), int(timestamp), raw[:64] + bytes([v]))


def _shown(value: str) -> str:
    return repr(value if len(value) <= 80 else value[:77] + "...")


def verify_timestamp(timestamp: int, *, now: float, window: int = SIGNATURE_WINDOW_SECONDS) -> None:
    """Raise :class:`Unauthorized` when ``timestamp`` is more than ``window`` seconds from ``now``."""
    drift = timestamp - now
    if abs(drift) > window:
        when = "ahead of" if drift > 0 else "behind"
        raise Unauthorized(f"the request's timestamp {timestamp} is {abs(drift):.0f} s {when} the server's clock "
                           f"({int(now)}); a signed request is accepted within {window} s of it",
                           hint="sign the request again with the current time (and check the client's clock)",
                           options=(HEADER_TIMESTAMP,))


def compute_signer(message: str, signature: bytes) -> str:
    """The checksummed address that made ``signature`` (65 bytes, ``v`` 27 or 28) of the EIP-191 ``message``;
    :class:`Unauthorized` if it recovers to no address, or is a high-``s`` (malleable) signature."""
    s = int.from_bytes(signature[32:64], "big")
    if s > SECPK1_N // 2:
        raise Unauthorized(f"{HEADER_SIGNATURE} has s in the upper half of the curve order (a malleable signature)",
                           hint="sign with a standard Ethereum library (they give the lower s)",
                           options=(HEADER_SIGNATURE,))
    try:
        return to_checksum_address(Account.recover_message(encode_defunct(text=message), signature=signature))
    except Exception as exc:  # eth_keys' BadSignature, ValidationError: not a signature of anything
        raise Unauthorized(f"{HEADER_SIGNATURE} is not a valid signature: {exc}", hint=SIGN_HINT,
                           options=(HEADER_SIGNATURE,)) from None


def compute_request_hash(address: str, message: str) -> str:
    """The key of a signed request in the replay store: 0x and the sha256 of the address, a line feed and the text.

    Keyed by what was signed and who signed it, not by the signature's bytes: one text has more than one valid
    signature, and none of them may be replayed."""
    return "0x" + hashlib.sha256(f"{address}\n{message}".encode()).hexdigest()


def record_signed_request(db: Database, address: str, message: str, timestamp: int, *, now: float,
                          window: int = SIGNATURE_WINDOW_SECONDS) -> None:
    """Record that ``address`` sent the signed ``message``, or raise :class:`ReplayedRequest` (409) if it did before.

    Requests seen more than twice the window ago are purged on the way (they could not be accepted again anyway;
    twice, so that replicas whose clocks differ a little keep what the others may still accept)."""
    request_hash = compute_request_hash(address, message)
    try:
        with db.session() as session:
            session.execute(delete(SeenRequest).where(SeenRequest.timestamp < int(now) - 2 * window))  # type: ignore[arg-type]
            session.add(SeenRequest(request_hash=request_hash, address=address, timestamp=timestamp))
    except IntegrityError:
        raise ReplayedRequest(f"this signed request (by {address}, timestamp {timestamp}) was already accepted: a "
                              f"signed request is accepted once",
                              hint="to retry a write, sign it again with a new timestamp and send the same "
                                   "Idempotency-Key", options=(HEADER_SIGNATURE,)) from None


def verify_signed_request(db: Database, headers: Mapping[str, str], *, chain_id: int, host: str, method: str,
                          path: str, body: bytes, now: float, window: int = SIGNATURE_WINDOW_SECONDS) -> str:
    """The checksummed address that signed this request, once: it is recorded, and the same request is refused the
    next time (:class:`ReplayedRequest`, 409). Malformed or missing headers are :class:`InvalidInput` (400); a
    timestamp outside ``window`` seconds of ``now``, a bad signature or one by another address,
    :class:`Unauthorized` (401)."""
    signed = parse_signed_headers(headers)
    verify_timestamp(signed.timestamp, now=now, window=window)
    message = compute_request_message(chain_id=chain_id, host=host, method=method, path=path, body=body,
                                      timestamp=signed.timestamp)
    signer = compute_signer(message, signed.signature)
    if signer != signed.address:
        raise Unauthorized(f"the signature is not {signed.address}'s: it recovers to {signer} (a signature of "
                           f"another text, or by another key)",
                           hint=f"sign the text the documentation describes (chain id {chain_id}, host "
                                f"{host.lower()}, {method.upper()} {path}) with the key of {HEADER_ADDRESS}",
                           options=(HEADER_SIGNATURE,))
    record_signed_request(db, signer, message, signed.timestamp, now=now, window=window)
    return signer


# ---------------------------------------------------------------------------------- operator API keys


def compute_api_key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _verify_api_key_name(name: str) -> None:
    if not _API_KEY_NAME.fullmatch(name):
        raise InvalidInput(f"an API key's name is 1 to 64 letters, digits, '.', '_' or '-' (starting with a letter "
                           f"or digit), got {_shown(name)}", hint="give a short name saying what the key is for",
                           options=("name",))


def _active_key(session: Any, name: str) -> ApiKey | None:
    found: ApiKey | None = session.exec(
        select(ApiKey).where(ApiKey.name == name, ApiKey.revoked_at == None)).first()  # noqa: E711
    return found


def create_api_key(db: Database, name: str, *, now: datetime | None = None) -> str:
    """A new operator API key named ``name``: returned once, stored only as its SHA-256.
    :class:`Conflict` if a key of that name is in use (revoke it first)."""
    _verify_api_key_name(name)
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    with db.session() as session:
        if _active_key(session, name) is not None:
            raise Conflict(f"an API key named {name!r} already exists", hint="revoke it first, or give another name",
                           options=("name",))
        session.add(ApiKey(name=name, key_hash=compute_api_key_hash(key), created_at=now or utc_now()))
    return key


def list_api_keys(db: Database, *, include_revoked: bool = True) -> list[ApiKeyPublic]:
    """The API keys (never the keys themselves), oldest first."""
    with db.session() as session:
        query = select(ApiKey).order_by(ApiKey.id)  # type: ignore[arg-type]
        if not include_revoked:
            query = query.where(ApiKey.revoked_at == None)  # noqa: E711
        return [ApiKeyPublic.model_validate(row, from_attributes=True) for row in session.exec(query)]


def revoke_api_key(db: Database, name: str, *, now: datetime | None = None) -> ApiKeyPublic:
    """Revoke the API key named ``name`` (it is refused from then on); :class:`NotFound` if there is none in use."""
    with db.session() as session:
        row = _active_key(session, name)
        if row is None:
            raise NotFound(f"no API key named {name!r} is in use", hint="give the name of a key that is not revoked",
                           options=("name",))
        row.revoked_at = now or utc_now()
        session.add(row)
        session.flush()
        return ApiKeyPublic.model_validate(row, from_attributes=True)


def verify_api_key(db: Database, key: str) -> str:
    """The name of the API key ``key``; :class:`Unauthorized` (401) if it is malformed, unknown or revoked."""
    return authenticate_api_key(db, key).name


def authenticate_api_key(db: Database, key: str) -> ApiKeyPublic:
    """The API key ``key`` (its row: id and name); :class:`Unauthorized` (401) if it is malformed, unknown or
    revoked."""
    if not _API_KEY.fullmatch(key):
        raise Unauthorized(f"the API key is not one dataseal makes ({API_KEY_PREFIX} and 43 characters)",
                           hint="give the key exactly as it was shown when made", options=(HEADER_AUTHORIZATION,))
    digest = compute_api_key_hash(key)
    with db.session() as session:
        row = session.exec(select(ApiKey).where(ApiKey.key_hash == digest)).first()
    if row is None or not hmac.compare_digest(row.key_hash, digest):
        raise Unauthorized("the API key is not known to this registry", hint="give a key made for this registry",
                           options=(HEADER_AUTHORIZATION,))
    if row.revoked_at is not None:
        raise Unauthorized(f"the API key {row.name!r} was revoked at {row.revoked_at.isoformat()}",
                           hint="give a key in use", options=(HEADER_AUTHORIZATION,))
    return ApiKeyPublic.model_validate(row, from_attributes=True)


def parse_bearer_key(authorization: str) -> str:
    """The key of an ``Authorization: Bearer <key>`` header value; :class:`InvalidInput` for another scheme."""
    scheme, _, key = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise InvalidInput(f"{HEADER_AUTHORIZATION} must be 'Bearer <API key>', got the scheme {_shown(scheme)}",
                           hint=SIGN_HINT, options=(HEADER_AUTHORIZATION,))
    if not key.strip():
        raise InvalidInput(f"{HEADER_AUTHORIZATION} gives the scheme Bearer but no API key after it",
                           hint="give the key after the scheme: Authorization: Bearer <API key> (the key as it was "
                                "shown when made, dsk_...)", options=(HEADER_AUTHORIZATION,))
    return key.strip()


# ---------------------------------------------------------------------------------- idempotency


@dataclass(frozen=True)
class StoredResponse:
    """An answer given to a write with an ``Idempotency-Key``."""

    status: int
    body: Any


def parse_idempotency_key(headers: Mapping[str, str]) -> str | None:
    """The ``Idempotency-Key`` header's value, None without one; :class:`InvalidInput` if it is malformed."""
    key = _header(headers, HEADER_IDEMPOTENCY_KEY)
    if key is None:
        return None
    if not _IDEMPOTENCY_KEY.fullmatch(key):
        raise InvalidInput(f"{HEADER_IDEMPOTENCY_KEY} must be 1 to 255 printable ASCII characters without spaces, "
                           f"got {_shown(key)} ({len(key)} characters)",
                           hint="give a unique value per write, such as a random UUID",
                           options=(HEADER_IDEMPOTENCY_KEY,))
    return key


def _verify_same_request(row: IdempotentResponse, method: str, path: str, body_hash: str) -> None:
    if (row.method, row.path) != (method.upper(), path):
        what = f"another request, {row.method} {row.path} (this one is {method.upper()} {path})"
    elif row.body_hash != body_hash:
        what = f"another body (sha256 {row.body_hash}; this one's is {body_hash})"
    else:
        return
    raise IdempotencyConflict(
        f"the Idempotency-Key {row.key!r} was already used for {what}: one key names one write",
        hint="give a new Idempotency-Key for a different write, or send the same request again to get its answer",
        options=(HEADER_IDEMPOTENCY_KEY,))


def get_idempotent_response(db: Database, *, writer: str, key: str, method: str, path: str,
                            body: bytes) -> StoredResponse | None:
    """The answer stored for ``writer``'s ``key``, None if there is none; :class:`IdempotencyConflict` (409) if the
    key was used for another request (method, path with query, body)."""
    with db.session() as session:
        row = session.get(IdempotentResponse, (writer, key))
    if row is None:
        return None
    _verify_same_request(row, method, path, compute_body_sha256(body))
    return StoredResponse(row.status, row.response)


def store_idempotent_response(db: Database, *, writer: str, key: str, method: str, path: str, body: bytes,
                              status: int, response: Any, now: datetime | None = None) -> StoredResponse:
    """Store the answer to ``writer``'s write under ``key``, and return the answer that stands: this one, or the
    one stored first when the same request, sent twice at once, was answered by another worker in between.
    Store final answers only (a success, or a refusal a retry would get again), never a 5xx."""
    body_hash = compute_body_sha256(body)
    try:
        with db.session() as session:
            session.add(IdempotentResponse(writer=writer, key=key, method=method.upper(), path=path,
                                           body_hash=body_hash, status=status, response=response,
                                           created_at=now or utc_now()))
    except IntegrityError:
        stored = get_idempotent_response(db, writer=writer, key=key, method=method, path=path, body=body)
        if stored is None:  # pragma: no cover  (stored, then purged in between)
            raise
        return stored
    return StoredResponse(status, response)


def purge_idempotent_responses(db: Database, *, before: datetime) -> int:
    """Delete the answers stored before ``before``; the number deleted."""
    with db.session() as session:
        result = session.execute(delete(IdempotentResponse).where(IdempotentResponse.created_at < before))  # type: ignore[arg-type]
        return int(result.rowcount)  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------- FastAPI


@dataclass(frozen=True)
class Writer:
    """Who makes a write: an address that signed the request, or an operator API key (by name)."""

    kind: Literal["address", "api_key"]
    name: str
    """The checksummed address, or the API key's name."""
    key_id: int | None = None
    """The API key's row id (None for an address): a key revoked and one made again under its name differ."""

    @property
    def address(self) -> str | None:
        """The signing address, None for an API key."""
        return self.name if self.kind == "address" else None

    def __str__(self) -> str:
        return self.name if self.kind == "address" else f"api-key:{self.name}"

    @property
    def scope(self) -> str:
        """Whose ``Idempotency-Key`` values these are: the address, or ``api-key:NAME#ID`` (the key's row, so that
        a new key given a revoked key's name does not get the old key's stored answers)."""
        return str(self) if self.kind == "address" else f"api-key:{self.name}#{self.key_id}"


def compute_request_target(request: Request) -> str:
    """The request's path with its query, as sent on the request line."""
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes | bytearray) else request.url.path
    query = request.scope.get("query_string", b"")
    return f"{path}?{query.decode('latin-1')}" if query else path


def _clock(request: Request) -> Callable[[], float]:
    clock: Callable[[], float] | None = getattr(request.app.state, "clock", None)
    return clock or time.time


def _chain_id(request: Request, registry: Registry) -> int:
    chain_id: int | None = getattr(request.app.state, "chain_id", None)
    return chain_id if chain_id is not None else registry.context.connection.chain_id


# How /docs and the OpenAPI schema name the two ways (they check nothing: require_writer does).
SIGNED_REQUEST_SCHEME = APIKeyHeader(
    name=HEADER_SIGNATURE, scheme_name="SignedRequest", auto_error=False,
    description=f"An EIP-191 signature by the acting address, with the headers {HEADER_ADDRESS} and "
                f"{HEADER_TIMESTAMP}: the signed text is seven lines, 'dataseal request', the chain id, the Host "
                f"header, the method, the path with query, the body's sha256 hex, the timestamp "
                f"(dataseal.api.security documents it).")
API_KEY_SCHEME = HTTPBearer(scheme_name="OperatorApiKey", auto_error=False,
                            description="An operator API key: Authorization: Bearer dsk_...")


async def require_writer(
    request: Request,
    _signature: Annotated[str | None, Security(SIGNED_REQUEST_SCHEME)] = None,
    _api_key: Annotated[HTTPAuthorizationCredentials | None, Security(API_KEY_SCHEME)] = None,
) -> Writer:
    """The writer of this request (FastAPI dependency): an operator API key (``Authorization: Bearer``) or a signed
    request (see the module's documentation). Raises :class:`Unauthorized` (401) without credentials or with
    refused ones, :class:`InvalidInput` (400) for malformed ones, :class:`ReplayedRequest` (409) for a replay.

    Reads ``request.app.state.registry`` (its database, and its chain's id unless ``app.state.chain_id`` is set)
    and ``request.app.state.clock`` (a callable answering Unix seconds; ``time.time`` if unset). The two other
    parameters only show the schemes in the OpenAPI schema: the headers are read from ``request``."""
    registry: Registry = request.app.state.registry
    authorization = request.headers.get(HEADER_AUTHORIZATION)
    signed = has_signed_headers(request.headers)
    if authorization is not None and signed:
        raise InvalidInput("the request gives both an API key and a signature", hint="give one of them",
                           options=(HEADER_AUTHORIZATION, HEADER_SIGNATURE))
    if authorization is not None:
        key = parse_bearer_key(authorization)
        row = await run_in_threadpool(authenticate_api_key, registry.db, key)
        return Writer("api_key", row.name, row.id)
    if not signed:
        raise Unauthorized(f"{request.method} {request.url.path} is a write: it needs a signed request or an "
                           f"operator API key", hint=SIGN_HINT, options=(HEADER_SIGNATURE, HEADER_AUTHORIZATION))
    body = await request.body()
    now = _clock(request)()

    def verify() -> str:
        return verify_signed_request(registry.db, request.headers, chain_id=_chain_id(request, registry),
                                     host=request.headers.get("host", ""), method=request.method,
                                     path=compute_request_target(request), body=body, now=now)

    return Writer("address", await run_in_threadpool(verify))


WriterDep = Annotated[Writer, Depends(require_writer)]


@dataclass
class Idempotency:
    """A write's idempotency: the stored answer to replay, if any, and how to store this one's."""

    db: Database
    writer: Writer
    key: str | None
    method: str
    path: str
    body: bytes
    stored: StoredResponse | None

    def replay(self) -> JSONResponse | None:
        """The stored answer, with ``Idempotent-Replayed: true``; None when there is none (the write goes ahead)."""
        if self.stored is None:
            return None
        return JSONResponse(self.stored.body, status_code=self.stored.status,
                            headers={HEADER_IDEMPOTENT_REPLAYED: "true"})

    def store(self, status: int, response: Any) -> JSONResponse:
        """The answer to give: ``response`` (JSON-ready) with ``status``, stored first when the request has a key
        (or the answer stored first by a concurrent identical request)."""
        if self.key is None:
            return JSONResponse(response, status_code=status)
        standing = store_idempotent_response(self.db, writer=self.writer.scope, key=self.key, method=self.method,
                                             path=self.path, body=self.body, status=status, response=response)
        replayed = {} if standing == StoredResponse(status, response) else {HEADER_IDEMPOTENT_REPLAYED: "true"}
        return JSONResponse(standing.body, status_code=standing.status, headers=replayed)


async def idempotency(request: Request, writer: WriterDep) -> Idempotency:
    """The request's :class:`Idempotency` (FastAPI dependency, after :func:`require_writer`). A route answers
    ``idempotency.replay()`` when it is not None, otherwise writes and answers ``idempotency.store(status, body)``."""
    registry: Registry = request.app.state.registry
    key = parse_idempotency_key(request.headers)
    body = await request.body()
    path = compute_request_target(request)
    stored = None
    if key is not None:
        stored = await run_in_threadpool(lambda: get_idempotent_response(
            registry.db, writer=writer.scope, key=key, method=request.method, path=path, body=body))
    return Idempotency(registry.db, writer, key, request.method, path, body, stored)


IdempotencyDep = Annotated[Idempotency, Depends(idempotency)]
