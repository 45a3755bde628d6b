"""Verifying a certificate against the chain: every field recomputed and compared, a tampered one named.

The certificate is recomputed from the chain as of its own block (:func:`.compute.read_asset_facts`,
logs only), with the certificate's manifest, issue time and language — the parts that are not chain
data — and compared field by field; the manifest itself is checked through the manifest hash on chain,
and both numbers through their check characters. The verify URL (what the QR code opens) is recomputed
from the base URL the verifier trusts (``base_url``: where the registry's public pages are served, the
one its certificates are issued with), so a certificate whose QR code leads elsewhere is named.

Then the asset's standing now (status, owner, validity at the latest block, from logs as well): a certificate
true as of its block no longer holds when, since, the asset was cancelled, rejected, suspended or has expired,
when the owner it names no longer owns it (a transfer), or when its own term has ended. Each such change is a
:class:`Lapse`, naming the change and its block and transaction. A registration pending or disputed still
stands (the certificate says so, and the standing now shows it).

:func:`compute_certificate_report` returns the report whatever it finds; :func:`verify_certificate`
raises :class:`CertificateMismatch` (carrying the report) when a field differs, else
:class:`CertificateLapsed` when the asset no longer stands as the certificate says (:func:`verify_report`).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final

from dataseal.chain.contracts.deployed import DatasealContracts
from dataseal.chain.contracts.logs import LogReader
from dataseal.chain.contracts.records import AssetStatus
from dataseal.chain.contracts.revert import format_time
from dataseal.errors import ErrorKind
from dataseal.registry.certificates.compute import (
    AssetFacts,
    build_certificate,
    check_base_url,
    read_asset_facts,
    utc,
)
from dataseal.registry.certificates.model import DEFAULT_BASE_URL, Certificate, CertificateError
from dataseal.registry.certificates.numbering import NumberError, parse_certificate_number, parse_registration_number

#: What a certificate holds that is not chain data, and how far it is checked.
NOT_CHECKED: Final = (
    "issuedAt: when the certificate was made is the issuer's clock, not chain data (the chain state it attests is "
    "asOf's, which is checked)",
    "language: the language(s) it was issued in",
)


@dataclass(frozen=True)
class FieldMismatch:
    """A field of the certificate that the chain contradicts: ``field`` is its JSON name (``registration.txHash``)."""

    field: str
    certificate: str
    chain: str
    reason: str = ""

    def to_json(self) -> dict[str, str]:
        out = {"field": self.field, "certificate": self.certificate, "chain": self.chain}
        if self.reason:
            out["reason"] = self.reason
        return out

    def describe(self) -> str:
        text = f"{self.field}: the certificate says {self.certificate}, the chain {self.chain}"
        return f"{text} ({self.reason})" if self.reason else text


#: The statuses in which a registration stands (a pending one in its notice period, a disputed one awaiting review).
STANDING: Final = frozenset({AssetStatus.Pending, AssetStatus.Active, AssetStatus.Disputed})


@dataclass(frozen=True)
class Standing:
    """The asset at the latest block: what may have changed since the certificate's block."""

    block_number: int
    status: str
    owner: str
    valid_until: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {"block_number": self.block_number, "status": self.status, "owner": self.owner,
                "valid_until": self.valid_until.isoformat().replace("+00:00", "Z") if self.valid_until else None}


@dataclass(frozen=True)
class Lapse:
    """A change since which the certificate no longer holds: ``what`` is ``status``, ``owner`` or ``term``; the
    block and transaction that made it (None for an expiry, which time makes, not a transaction)."""

    what: str
    description: str
    block_number: int | None = None
    tx_hash: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"what": self.what, "description": self.description, "block_number": self.block_number,
                "tx_hash": self.tx_hash}


@dataclass(frozen=True)
class CertificateReport:
    """What :func:`compute_certificate_report` found."""

    certificate_number: str
    asset_id: int
    mismatches: tuple[FieldMismatch, ...]
    checked: tuple[str, ...]
    not_checked: tuple[str, ...]
    now: Standing | None
    lapses: tuple[Lapse, ...] = ()

    @property
    def ok(self) -> bool:
        """Every field matches the chain as of the certificate's block, and the asset still stands as it says."""
        return not self.mismatches and not self.lapses

    @property
    def tampered_fields(self) -> tuple[str, ...]:
        return tuple(m.field for m in self.mismatches)

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "certificate_number": self.certificate_number, "asset_id": self.asset_id,
                "mismatches": [m.to_json() for m in self.mismatches], "checked": list(self.checked),
                "not_checked": list(self.not_checked), "now": self.now.to_json() if self.now else None,
                "lapses": [lapse.to_json() for lapse in self.lapses]}


class CertificateMismatch(CertificateError):
    """The chain contradicts a certificate; ``report`` names every field that differs."""

    kind = ErrorKind.INVALID_INPUT

    def __init__(self, report: CertificateReport) -> None:
        fields = ", ".join(report.tampered_fields)
        first = report.mismatches[0].describe()
        super().__init__(
            f"certificate {report.certificate_number} does not match the chain: {fields} differ ({first}"
            f"{'; …' if len(report.mismatches) > 1 else ''})",
            hint="the certificate was altered, or is of another chain, deployment or registry web address: ask "
            "the registry for the public record and a new certificate",
        )
        self.report = report


class CertificateLapsed(CertificateError):
    """A certificate true as of its block whose asset no longer stands as it says; ``report.lapses`` name the
    changes."""

    kind = ErrorKind.CONFLICT

    def __init__(self, report: CertificateReport) -> None:
        first = report.lapses[0]
        super().__init__(
            f"certificate {report.certificate_number} was true when issued, but asset {report.asset_id} no longer "
            f"stands as it says: {first.description}{'; …' if len(report.lapses) > 1 else ''}",
            hint="the certificate states the chain as of its own block: ask the registry for the public record, "
            "and for a new certificate if the asset still stands",
        )
        self.report = report


def _shown(value: Any) -> str:
    return "unknown" if value is None else str(value)


def _diff(certificate: dict[str, Any], expected: dict[str, Any], prefix: str = "") -> list[FieldMismatch]:
    out: list[FieldMismatch] = []
    for key, value in certificate.items():
        want = expected.get(key)
        if isinstance(value, dict) and isinstance(want, dict):
            out += _diff(value, want, f"{prefix}{key}.")
        elif value != want:
            out.append(FieldMismatch(f"{prefix}{key}", _shown(value), _shown(want)))
    return out


def _unique(mismatches: list[FieldMismatch]) -> list[FieldMismatch]:
    """The first mismatch of each field."""
    seen: dict[str, FieldMismatch] = {}
    for mismatch in mismatches:
        seen.setdefault(mismatch.field, mismatch)
    return list(seen.values())


def _number_problems(cert: Certificate, expected: Certificate | None) -> list[FieldMismatch]:
    out = []
    for name, value, parse in (
        ("certificateNumber", cert.certificate_number, parse_certificate_number),
        ("registrationNumber", cert.registration_number, parse_registration_number),
    ):
        try:
            parse(value)
        except NumberError as exc:
            chain = getattr(expected, "certificate_number" if name == "certificateNumber" else "registration_number",
                            None)
            out.append(FieldMismatch(name, value, _shown(chain), exc.message))
    return out


def _identity_problems(cert: Certificate) -> list[FieldMismatch]:
    """The chain, asset and block a (well-formed) certificate number names, against the fields that say them: a
    certificate moved onto another asset or block without a new number is caught even where that asset's or
    block's own data would agree with it."""
    out: list[FieldMismatch] = []
    try:
        number = parse_certificate_number(cert.certificate_number)
    except NumberError:
        return out  # reported as the number's own problem
    for field, value, named in (("chainId", cert.chain_id, number.chain_id),
                                ("assetId", cert.asset_id, number.asset_id),
                                ("asOf.blockNumber", cert.as_of.block_number, number.block_number)):
        if value != named:
            out.append(FieldMismatch(field, str(value), f"{named} (as the certificate number says)",
                                     f"certificate number {cert.certificate_number} is of {field} {named}"))
    return out


def _explain_verify_url(mismatch: FieldMismatch, base: str) -> FieldMismatch:
    """A verifyUrl mismatch says why: the expected URL is under the base URL the verifier trusts, not chain data."""
    if mismatch.field != "verifyUrl":
        return mismatch
    return FieldMismatch(mismatch.field, mismatch.certificate, mismatch.chain,
                         f"the public record of this asset and certificate is expected under {base}: the QR code "
                         "opens another address")


def _standing(now: AssetFacts) -> Standing:
    return Standing(now.block.number, now.status.name, now.owner, utc(now.valid_until) if now.valid_until else None)


def compute_lapses(cert: Certificate, now: AssetFacts) -> tuple[Lapse, ...]:
    """What, by the asset's state ``now`` (the latest block's facts), keeps ``cert`` (which matches its own
    block) from holding: the asset no longer standing, the owner it names no longer owning it, its term ended."""
    asset, out = cert.asset_id, []
    at = f"as of block {now.block.number}"
    if now.status not in STANDING:
        change = now.last_status_change
        if now.status == AssetStatus.Expired:
            out.append(Lapse("status", f"asset {asset} expired at {format_time(now.valid_until)}, when its "
                             f"registration's validity ended (time, not a transaction, ends it; {at})"))
        elif change is not None and change.to_status == now.status:
            out.append(Lapse("status", f"asset {asset} became {now.status.name} at block {change.tx.block_number} "
                             f"(tx {change.tx.tx_hash}, by {change.by})", change.tx.block_number, change.tx.tx_hash))
        else:  # (every stored status is set by an AssetStatusChanged)
            out.append(Lapse("status", f"asset {asset} is {now.status.name} {at}"))
    if now.owner.lower() != cert.owner.lower():
        moved = now.last_transfer
        where = (f" at block {moved.tx.block_number} (tx {moved.tx.tx_hash})" if moved is not None else "")
        out.append(Lapse("owner", f"asset {asset} was transferred to {now.owner}{where}: {cert.owner}, the owner the "
                         "certificate names, no longer owns it", moved.tx.block_number if moved else None,
                         moved.tx.tx_hash if moved else None))
    ended = int(cert.valid_until.timestamp())
    if now.status != AssetStatus.Expired and now.block.timestamp >= ended:
        renewed = (f"; the registration now runs until {format_time(now.valid_until)}"
                   if now.valid_until > ended else "")
        out.append(Lapse("term", f"the certificate's term ended at {format_time(ended)} ({at}){renewed}"))
    return tuple(out)


def compute_certificate_report(
    cert: Certificate, contracts: DatasealContracts, log_reader: LogReader, *, base_url: str = DEFAULT_BASE_URL,
) -> CertificateReport:
    """Every field of ``cert`` checked against the chain, its verify URL against ``base_url`` (see the module
    documentation); never raises for a mismatch (only when the chain cannot be read, or ``base_url`` is not an
    http(s) URL: :class:`CertificateError`)."""
    base = check_base_url(base_url)
    deployment = contracts.deployment
    checked: list[str] = ["certificateNumber (check character)", "registrationNumber (check character)"]

    def report(mismatches: list[FieldMismatch], *, now: Standing | None = None,
               more: tuple[str, ...] = ()) -> CertificateReport:
        return CertificateReport(cert.certificate_number, cert.asset_id, tuple(mismatches), tuple(checked),
                                 (*more, *NOT_CHECKED), now)

    chain_id = int(log_reader.w3.eth.chain_id)
    where = [m for m in (
        FieldMismatch("chainId", str(cert.chain_id), str(chain_id)) if cert.chain_id != chain_id else None,
        FieldMismatch("contract", cert.contract, contracts.registry.address)
        if cert.contract.lower() != contracts.registry.address.lower() else None,
    ) if m is not None]
    checked += ["chainId", "contract"]
    if where:
        return report(_unique([*_number_problems(cert, None), *where, *_identity_problems(cert)]),
                      more=("every other field: the certificate names another chain or contract than the node's "
                            "deployment, against which it was not checked",))
    try:
        facts = read_asset_facts(contracts, log_reader, deployment, cert.asset_id, cert.as_of.block_number)
    except CertificateError as exc:
        if exc.kind != ErrorKind.NOT_FOUND:
            raise
        field = "asOf.blockNumber" if "has no block" in exc.message else "assetId"
        value = cert.as_of.block_number if field == "asOf.blockNumber" else cert.asset_id
        checked.append(field)
        return report(_unique([*_number_problems(cert, None), FieldMismatch(field, str(value), exc.message),
                               *_identity_problems(cert)]),
                      more=("every other field: the chain has no such registration to compare with",))
    expected = build_certificate(facts, cert.manifest, base_url=base, issued_at=cert.issued_at,
                                 language=cert.language)
    mine, theirs = cert.to_json_data(), expected.to_json_data()
    mine.pop("manifest")
    theirs.pop("manifest")
    mismatches = _number_problems(cert, expected)
    numbers = {m.field for m in mismatches}
    mismatches += [_explain_verify_url(m, base) for m in _diff(mine, theirs) if m.field not in numbers]
    checked += [f"verifyUrl (under {base})" if key == "verifyUrl" else key for key in theirs
                if key not in ("chainId", "contract", "issuedAt", "language")]
    if cert.manifest is not None:
        checked.append("manifest (its hash against the manifest hash on chain)")
        registered = "0x" + facts.registration.manifest_hash.hex()
        if cert.manifest.hash_hex != registered:
            mismatches.append(FieldMismatch("manifest", f"a manifest hashing to {cert.manifest.hash_hex}", registered,
                                            "the manifest on the certificate is not the registered one"))
    latest = read_asset_facts(contracts, log_reader, deployment, cert.asset_id, log_reader.latest_block())
    checked.append("standing now (status, owner and term at the latest block)")
    found = report(_unique([*mismatches, *_identity_problems(cert)]), now=_standing(latest))
    # what changed since is measured from the chain's own state at the certificate's block (a field the certificate
    # got wrong is a mismatch above, not also a change since)
    return replace(found, lapses=compute_lapses(expected, latest))


def verify_report(found: CertificateReport) -> None:
    """Raise :class:`CertificateMismatch` when ``found`` names a field the chain contradicts, else
    :class:`CertificateLapsed` when the asset no longer stands as the certificate says; nothing when it is OK."""
    if found.mismatches:
        raise CertificateMismatch(found)
    if found.lapses:
        raise CertificateLapsed(found)


def verify_certificate(cert: Certificate, contracts: DatasealContracts, log_reader: LogReader, *,
                       base_url: str = DEFAULT_BASE_URL) -> CertificateReport:
    """The report of :func:`compute_certificate_report` when every field matches the chain (and the verify URL
    ``base_url``) and the asset still stands as the certificate says; :class:`CertificateMismatch` naming the
    fields that differ, or :class:`CertificateLapsed` naming what changed since, otherwise."""
    found = compute_certificate_report(cert, contracts, log_reader, base_url=base_url)
    verify_report(found)
    return found
