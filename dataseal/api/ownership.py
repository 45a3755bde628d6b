"""Ownership challenges: proving, over HTTP, that the caller holds the key of an asset's owner without the service
ever seeing it.

The server issues a one-time text (:func:`compute_challenge`) naming the asset, the chain, the AssetRegistry, a
random nonce and an expiry, bound to this server by an HMAC-SHA256 under its secret (so a challenge is not stored
when issued, and one a client made up or changed is refused). The caller signs the text with EIP-191 (``personal_sign``,
``Account.sign_message(encode_defunct(text=…))``) and sends it back with the signature; the server checks the text
(:func:`parse_challenge`: its own, for this asset, not expired), recovers the signer
(:func:`~dataseal.api.security.compute_signer`: high-``s`` refused), and records the challenge as used in the signed
requests' replay store, so that it is accepted once. The text, eight lines joined by ``\\n``::

    dataseal ownership challenge
    Sign this text with the key of the owner of asset 7 to prove that you hold it. Signing it moves nothing.
    asset: 7
    chain: 31337
    registry: 0x5FbDB2315678afecb367f032d93F642f64180aa3
    nonce: 0x<64 hex digits>
    expires: 1767225600 (2026-01-01T00:00:00Z)
    mac: <64 hex digits>

The secret (:func:`load_challenge_secret`) is one every replica of a service has and outsiders do not, so that a
challenge one replica issued another accepts (behind a load balancer the two requests seldom meet the same process)
and a restart voids none: the setting ``api_secret`` when given (HMAC-derived, so the setting's text is never the
key itself); else a random 32 bytes kept in ``<data_dir>/api.secret`` (mode 0600), made by the first process that
needs it — the replicas sharing a data folder (an embedded ``dataseal up`` and the CLI beside it, or several
processes on one machine) share it with nothing to configure, as they share the operator's keystore. Replicas on
several machines give them one ``api_secret``, as they give them one operator key. Neither needs a table: the
database the replicas share would also do, but it would make the secret readable to everyone who may read the
registry's tables, and a challenge's worth is exactly that no one but the service can make one.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from dataseal.chain.files import read_limited, write_atomic
from dataseal.errors import Conflict, InternalError, InvalidInput
from dataseal.registry.settings import Settings

CHALLENGE_TAG: Final = "dataseal ownership challenge"
#: How long an issued challenge can be answered.
CHALLENGE_TTL_SECONDS: Final = 300
#: The longest challenge text accepted (one this server issues is about 400 characters).
MAX_CHALLENGE_LENGTH: Final = 1000
#: The signer recorded with a used challenge in the replay store: a challenge is used once, whoever signs it.
ANY_SIGNER: Final = "0x" + "00" * 20
#: The file of the data folder keeping the challenges' secret when the setting ``api_secret`` is not given.
API_SECRET_FILENAME: Final = "api.secret"
#: What the setting ``api_secret`` is keyed with to make the challenges' secret (a purpose of its own).
_SECRET_PURPOSE: Final = b"dataseal ownership challenges v1"

_FIELDS = re.compile(
    r"asset: (?P<asset>[1-9][0-9]{0,77})\n"
    r"chain: (?P<chain>[1-9][0-9]{0,19})\n"
    r"registry: (?P<registry>0x[0-9a-fA-F]{40})\n"
    r"nonce: (?P<nonce>0x[0-9a-f]{64})\n"
    r"expires: (?P<expires>[1-9][0-9]{0,11}) \([0-9TZ:-]+\)\n"
    r"mac: (?P<mac>[0-9a-f]{64})")
_HINT: Final = "ask for a new challenge (POST /assets/{id}/ownership/challenge) and sign its text exactly as given"


class ChallengeExpired(Conflict):
    """An ownership challenge answered after its expiry: 409."""


class ChallengeUsed(Conflict):
    """An ownership challenge answered a second time: 409."""


@dataclass(frozen=True)
class Challenge:
    """An ownership challenge's fields, and its text."""

    asset_id: int
    chain_id: int
    registry: str
    nonce: str
    expires: int
    text: str


def compute_challenge_secret() -> bytes:
    """A new random secret for the challenges' HMAC."""
    return secrets.token_bytes(32)


def load_challenge_secret(settings: Settings) -> bytes:
    """The secret of the challenges' HMAC for the service of ``settings`` (see the module doc): derived from
    ``api_secret`` when given, else the one in ``<data_dir>/api.secret``, made now if there is none."""
    if settings.api_secret is not None:
        return hmac.new(settings.api_secret.get_secret_value().encode(), _SECRET_PURPOSE, hashlib.sha256).digest()
    file = Path(settings.data_dir) / API_SECRET_FILENAME
    try:
        return _read_secret(file)
    except FileNotFoundError:
        pass
    # made beside it, then linked in: of several processes making one at once, the first link wins and every
    # process reads the winner's (a link never replaces a file, and the file is whole before it is linked)
    file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    staged = file.with_name(f".{file.name}.{secrets.token_hex(8)}")
    write_atomic(staged, (compute_challenge_secret().hex() + "\n").encode(), mode=0o600, replace=False)
    try:
        os.link(staged, file)
    except FileExistsError:
        pass
    finally:
        staged.unlink()
    return _read_secret(file)


def _read_secret(file: Path) -> bytes:
    text = read_limited(file, 200, what="the API secret file", error=InternalError).decode("ascii", "replace").strip()
    if re.fullmatch(r"[0-9a-f]{64}", text) is None:
        raise InternalError(f"the API secret file {file} does not hold 64 hex digits (a secret this service made)",
                          hint="delete it to have a new one made (the ownership challenges issued before are then "
                               "refused), or give the API secret setting")
    return bytes.fromhex(text)


def _body(asset_id: int, chain_id: int, registry: str, nonce: str, expires: int) -> str:
    moment = datetime.fromtimestamp(expires, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return "\n".join((
        CHALLENGE_TAG,
        f"Sign this text with the key of the owner of asset {asset_id} to prove that you hold it. Signing it moves "
        "nothing.",
        f"asset: {asset_id}", f"chain: {chain_id}", f"registry: {registry}", f"nonce: {nonce}",
        f"expires: {expires} ({moment})"))


def _mac(secret: bytes, body: str) -> str:
    return hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()


def compute_challenge(secret: bytes, *, asset_id: int, chain_id: int, registry: str, now: float,
                      ttl: int = CHALLENGE_TTL_SECONDS) -> Challenge:
    """A new challenge for ``asset_id`` of ``registry`` (checksummed) on ``chain_id``, expiring ``ttl`` s after
    ``now``."""
    nonce = "0x" + secrets.token_bytes(32).hex()
    expires = int(now) + ttl
    body = _body(asset_id, chain_id, registry, nonce, expires)
    return Challenge(asset_id, chain_id, registry, nonce, expires, f"{body}\nmac: {_mac(secret, body)}")


def parse_challenge(secret: bytes, text: str, *, asset_id: int, chain_id: int, registry: str,
                    now: float) -> Challenge:
    """The challenge ``text``, checked: issued by this server (its HMAC under ``secret``), for ``asset_id`` of
    ``registry`` on ``chain_id``, not expired at ``now``. :class:`InvalidInput` (400) for a text that is not one,
    another server's or another asset's; :class:`ChallengeExpired` (409) past its expiry."""
    lines = text.split("\n")
    fields = _FIELDS.fullmatch("\n".join(lines[2:])) if len(lines) == 8 and lines[0] == CHALLENGE_TAG else None
    if fields is None:
        raise InvalidInput(f"the challenge is not an ownership challenge of this registry: expected the 8 lines it "
                           f"issued, starting {CHALLENGE_TAG!r}", hint=_HINT, options=("challenge",))
    challenge = Challenge(int(fields["asset"]), int(fields["chain"]), fields["registry"], fields["nonce"],
                          int(fields["expires"]), text)
    body = _body(challenge.asset_id, challenge.chain_id, challenge.registry, challenge.nonce, challenge.expires)
    if body != text.rsplit("\n", 1)[0] or not hmac.compare_digest(_mac(secret, body), fields["mac"]):
        raise InvalidInput("the challenge was not issued by this registry, or was changed after it was (its mac does "
                           "not match)", hint=_HINT, options=("challenge",))
    if (challenge.chain_id, challenge.registry) != (chain_id, registry):
        raise InvalidInput(f"the challenge is for the AssetRegistry {challenge.registry} on chain "
                           f"{challenge.chain_id}; this registry's is {registry} on chain {chain_id}", hint=_HINT,
                           options=("challenge",))
    if challenge.asset_id != asset_id:
        raise InvalidInput(f"the challenge is for asset {challenge.asset_id}, not asset {asset_id}",
                           hint=f"send it to /assets/{challenge.asset_id}/ownership/proof, or ask for a challenge for "
                                f"asset {asset_id}", options=("challenge",))
    if now >= challenge.expires:
        raise ChallengeExpired(f"the challenge expired at {datetime.fromtimestamp(challenge.expires, UTC).isoformat()} "
                               f"({int(now) - challenge.expires} s ago); a challenge is answered within "
                               f"{CHALLENGE_TTL_SECONDS} s of being issued", hint=_HINT, options=("challenge",))
    return challenge


def parse_signature(signature: str) -> bytes:
    """The 65 bytes of an EIP-191 signature given as 0x and 130 hex digits (``v`` 27 or 28, or 0 or 1), with ``v``
    27 or 28; :class:`InvalidInput` otherwise."""
    if re.fullmatch(r"0x[0-9a-fA-F]{130}", signature) is None:
        raise InvalidInput(f"the signature must be 0x and 130 hex digits (65 bytes r, s, v), got "
                           f"{signature[:20]!r}{'…' if len(signature) > 20 else ''} ({len(signature)} characters)",
                           hint="give the EIP-191 signature of the challenge's text", options=("signature",))
    raw = bytes.fromhex(signature[2:])
    v = raw[64] + 27 if raw[64] in (0, 1) else raw[64]
    if v not in (27, 28):
        raise InvalidInput(f"the signature's recovery byte v must be 27 or 28 (or 0 or 1), got {raw[64]}",
                           hint="give the EIP-191 signature of the challenge's text", options=("signature",))
    return raw[:64] + bytes([v])
