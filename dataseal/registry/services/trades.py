"""Trades: a sale of an asset (transfer) or of a licence to use it, countersigned by the buyer, in two steps.

    offer = offer_trade(registry, asset_id=1, buyer="0xB…", price=50_000, currency="CNY",
                        settlement_hash=keccak(contract_pdf), licence=LicenceOffer("model training", "now", "365d",
                        quota=10_000))                  # the seller: the terms, as a document for the buyer
    signature = sign_offer(buyer_registry, offer)       # the buyer, with its own keystore account (EIP-712)
    done = record_trade(registry, offer, signature)     # the seller: TradeRecorded, settled on chain

A transfer moves the asset's token to the buyer when recorded; a licence sale creates a grant for the buyer with
the offer's licence terms (its purpose text and scope indexes are kept in the seller's registry, as for
:func:`~dataseal.registry.services.grants.grant`). The offer (kind ``dataseal/trade-offer``) and the signature
(kind ``dataseal/trade-signature``) are JSON documents that travel between the two parties; the offer's hash,
``keccak256`` of its canonical JSON, is the trade's natural key: recording an offer that the chain already shows
recorded returns that record instead of sending again. The offer is recorded when a TradeRecorded event of the
asset with its seller, buyer, price, currency and settlement was emitted by a ``recordTrade`` call with exactly
its terms (licence window, quota, purpose and scope included) and deadline (see :func:`get_trade_record`): a
second offer that differs only in those is a trade of its own. The transaction goes through the
:mod:`~dataseal.registry.outbox` (key ``trade:<chain>:<ledger>:<offer hash>``): a run that died at any moment, even
between the node taking the transaction and its hash being recorded, is finished by the next one, which waits for
the earlier transaction and never sends a second.

What the chain would refuse is refused first: a buyer that is the seller or the zero address, an asset not
Active or not the seller's, a deadline past by the chain's clock, a signature not the buyer's over these terms,
or made with a nonce the buyer has since used.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from eth_abi import decode as abi_decode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils import function_signature_to_4byte_selector, is_checksum_address, keccak, to_checksum_address
from pydantic import Field, StringConstraints, ValidationError, field_validator

from dataseal.chain.accounts.eip712 import LEDGER_DOMAIN_NAME, TRADE_TYPE, Domain, sign_trade, typed_data
from dataseal.chain.accounts.passwords import PasswordSource
from dataseal.chain.contracts.client import ESTIMATE
from dataseal.chain.contracts.logs import LogReader
from dataseal.chain.contracts.records import (
    TRADE,
    ZERO32,
    AssetStatus,
    GrantRecord,
    Settlement,
    TradeRecord,
    TradeTerms,
)
from dataseal.chain.contracts.revert import format_time
from dataseal.chain.sending.sender import TxSender
from dataseal.chain.values import address
from dataseal.errors import DatasealError, ErrorKind
from dataseal.registry.db.models.receipts import RECORDED, SENT, TradeOfferRecord
from dataseal.registry.manifest import Hash32, Model, describe_validation_error, read_json
from dataseal.registry.merkle.hashing import keccak256
from dataseal.registry.outbox import Hook, get_record
from dataseal.registry.registry import Registry
from dataseal.registry.sealing.canonical import canonical_json_bytes
from dataseal.registry.services.grant_terms import (
    compute_next_block_time,
    record_purpose,
    record_scope,
    resolve_time,
    scope_tree,
)
from dataseal.registry.services.grants import MAX_UINT64, acting_for, delivered_receipt, signing_sender, writes_outbox

OFFER_KIND: Final = "dataseal/trade-offer"
SIGNATURE_KIND: Final = "dataseal/trade-signature"
TRADE_RECORDED = "0x" + keccak(
    text="TradeRecorded(uint256,uint256,address,address,uint256,bytes32,bytes32,uint8,uint256,address)").hex()
#: TransactionLedger.recordTrade's argument types (ITransactionLedger.TradeTerms, the deadline, the signature).
RECORD_TRADE_TYPES: Final = ("(uint256,address,address,uint256,bytes32,bytes32,uint8,bytes32,uint64,uint64,uint64,"
                             "bytes32)", "uint256", "bytes")
RECORD_TRADE_SELECTOR: Final = function_signature_to_4byte_selector(f"recordTrade({','.join(RECORD_TRADE_TYPES)})")
Address = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{40}$")]
Signature65 = Annotated[str, StringConstraints(pattern=r"^0x[0-9a-f]{130}$")]
_AS_WRITTEN = "use the document as dataseal wrote it"


class TradeError(DatasealError):
    """A trade cannot be offered, signed or recorded as asked."""


class LicenceTerms(Model):
    """The grant a licence sale creates for the buyer."""

    purpose: str = Field(min_length=1, description="Purpose text; its keccak256 is the grant's purpose")
    valid_from: int = Field(ge=0, description="Unix seconds")
    expires_at: int = Field(ge=1, description="Unix seconds (exclusive)")
    quota: int = Field(ge=1, le=MAX_UINT64)
    scope_root: Hash32 = Field(description="Scope root of the covered indexes; zero: the whole asset")


class TradeOffer(Model):
    """What the seller offers and the buyer countersigns (``dataseal/trade-offer`` version 1)."""

    kind: Literal["dataseal/trade-offer"]
    version: Literal[1]
    chain_id: int = Field(ge=1)
    ledger: Address = Field(description="The TransactionLedger that records the trade (the EIP-712 domain)")
    asset_id: int = Field(ge=1)
    seller: Address
    buyer: Address
    price: int = Field(ge=0, lt=2**256, description="In the currency's smallest unit")
    currency: str = Field(min_length=1, description="Currency code (at most 32 bytes of UTF-8; CNY, USD, ...)")
    settlement_hash: Hash32 = Field(description="keccak256 of the off-chain settlement document")
    settlement: Literal["transfer", "licence"]
    licence: LicenceTerms | None = Field(description="The buyer's grant, for a licence sale; null for a transfer")
    deadline: int = Field(ge=1, description="Last Unix second at which the buyer's signature may be recorded")

    @field_validator("ledger", "seller", "buyer")
    @classmethod
    def _checksummed(cls, value: str) -> str:
        if not is_checksum_address(value):
            raise ValueError(f"{value} is not an EIP-55 checksummed address")
        return value

    @field_validator("currency")
    @classmethod
    def _fits(cls, value: str) -> str:
        if len(value.encode("utf-8")) > 32:
            raise ValueError("a currency code fits in 32 bytes of UTF-8")
        return value

    @property
    def hash(self) -> bytes:
        """keccak256 of the canonical JSON: the trade's natural key, and what the signature document names."""
        return keccak256(canonical_json_bytes(self.to_json_data()))

    @property
    def hash_hex(self) -> str:
        return "0x" + self.hash.hex()

    def terms(self) -> TradeTerms:
        """The terms as TransactionLedger takes them."""
        currency = self.currency.encode("utf-8").ljust(32, b"\0")
        settlement_hash = bytes.fromhex(self.settlement_hash[2:])
        if self.licence is None:
            return TradeTerms.transfer(self.asset_id, self.seller, self.buyer, self.price, currency, settlement_hash)
        lic = self.licence
        return TradeTerms.licence(self.asset_id, self.seller, self.buyer, self.price, currency, settlement_hash,
                                  keccak(text=lic.purpose), lic.valid_from, lic.expires_at, lic.quota,
                                  bytes.fromhex(lic.scope_root[2:]))

    def to_text(self) -> str:
        return json.dumps(self.to_json_data(), indent=2, ensure_ascii=False) + "\n"


class TradeSignature(Model):
    """The buyer's EIP-712 countersignature of an offer (``dataseal/trade-signature`` version 1)."""

    kind: Literal["dataseal/trade-signature"]
    version: Literal[1]
    offer_hash: Hash32
    buyer: Address
    nonce: int = Field(ge=0, description="The buyer's TransactionLedger nonce the signature was made with")
    signature: Signature65

    def to_text(self) -> str:
        return json.dumps(self.to_json_data(), indent=2, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class LicenceOffer:
    """What a seller asks for a licence sale (see :func:`offer_trade`)."""

    purpose: str
    valid_from: int | datetime | str
    until: int | datetime | str
    quota: int
    scope: Iterable[int] | Path | str | None = None


@dataclass(frozen=True)
class TradeResult:
    offer: TradeOffer
    record: TradeRecord
    already_recorded: bool

    def to_json(self) -> dict[str, Any]:
        return {"offer_hash": self.offer.hash_hex, "record": self.record.to_json(),
                "already_recorded": self.already_recorded}


# ----------------------------------------------------------------------------------------------- documents


def load_offer(data: Any, where: str = "offer") -> TradeOffer:
    return _load(TradeOffer, OFFER_KIND, data, where)  # type: ignore[return-value]


def load_signature(data: Any, where: str = "signature") -> TradeSignature:
    return _load(TradeSignature, SIGNATURE_KIND, data, where)  # type: ignore[return-value]


def read_offer(path: Path) -> TradeOffer:
    return load_offer(read_json(Path(path), "trade offer", TradeError), str(path))


def read_signature(path: Path) -> TradeSignature:
    return load_signature(read_json(Path(path), "trade signature", TradeError), str(path))


def _load(model: type[Model], kind: str, data: Any, where: str) -> Model:
    if not isinstance(data, dict) or data.get("kind") != kind:
        found = data.get("kind") if isinstance(data, dict) else type(data).__name__
        raise TradeError(f"{where} is not a {kind} document (its kind is {found!r})", hint=_AS_WRITTEN)
    if data.get("version") != 1:
        raise TradeError(f"{where} has version {data.get('version')!r}; this dataseal reads version 1",
                         hint=_AS_WRITTEN)
    try:
        return model.model_validate_json(json.dumps(data), strict=True, by_alias=True, by_name=False)
    except ValidationError as exc:
        raise TradeError(f"{where} is invalid: {describe_validation_error(exc)}", hint=_AS_WRITTEN) from None


# ----------------------------------------------------------------------------------------------- offer


def offer_trade(
    registry: Registry,
    asset_id: int,
    buyer: str,
    price: int,
    currency: str,
    settlement_hash: bytes | str,
    *,
    licence: LicenceOffer | None = None,
    deadline: int | datetime | str = "7d",
    seller: str | None = None,
) -> TradeOffer:
    """The terms of a sale of ``asset_id`` (a transfer, or with ``licence`` a licence) to ``buyer``, for the buyer
    to countersign before ``deadline``. ``seller`` defaults to the asset's owner. Nothing is sent."""
    contracts = registry.context.contracts()
    deployment = registry.context.deployment()
    asset = contracts.registry.asset(asset_id)  # UnknownAsset, decoded
    who = address(seller, "seller") if seller else asset.owner
    to = address(buyer, "buyer")
    if int(to, 16) == 0 or to == who:
        raise TradeError(f"the buyer {to} cannot be the zero address or the seller", hint="name who buys",
                         options=("buyer",))
    if who != asset.owner:
        raise TradeError(f"{who} does not own asset {asset_id} (its owner is {asset.owner})",
                         hint="offer as the asset's owner", kind=ErrorKind.CONFLICT)
    if asset.status != AssetStatus.Active:
        raise TradeError(f"asset {asset_id} is {asset.status.name}: trades are recorded for Active assets only",
                         hint="wait until it is Active", kind=ErrorKind.CONFLICT)
    if isinstance(price, bool) or not isinstance(price, int) or not 0 <= price < 2**256:
        raise TradeError(f"the price {price!r} is not a whole number of the currency's smallest unit",
                         hint="give the price in the smallest unit (fen, cents)", options=("price",))
    digest = settlement_hash if isinstance(settlement_hash, bytes) else _hash32(settlement_hash, "settlement hash")
    if digest == ZERO32:
        raise TradeError("the settlement hash is zero", hint="give the keccak256 of the settlement document",
                         options=("settlement",))
    now = compute_next_block_time(registry)
    ends = resolve_time(deadline, now, "deadline")
    if ends <= now:
        raise TradeError(f"the deadline {format_time(ends)} is past (it is now {format_time(now)})",
                         hint="give a deadline in the future", options=("deadline",))
    terms: LicenceTerms | None = None
    if licence is not None:
        start = resolve_time(licence.valid_from, now, "valid_from")
        end = resolve_time(licence.until, now, "until", base=start)
        if end <= start or end <= now:
            raise TradeError(f"the licence's window {format_time(start)} .. {format_time(end)} is empty or over",
                             hint="give an end after the start and in the future", options=("until",))
        tree = scope_tree(licence.scope)
        with registry.db.session() as session:
            record_purpose(session, licence.purpose)
            if tree is not None:
                record_scope(session, tree)
        try:
            terms = LicenceTerms(purpose=licence.purpose, valid_from=start, expires_at=end, quota=licence.quota,
                                 scope_root=tree.root_hex if tree else "0x" + ZERO32.hex())
        except ValidationError as exc:
            raise TradeError(f"the licence terms are invalid: {describe_validation_error(exc)}",
                             hint="check the purpose and quota", options=("quota",)) from None
    try:
        offer = TradeOffer(kind=OFFER_KIND, version=1, chain_id=deployment.chain_id,
                           ledger=deployment.transaction_ledger, asset_id=asset_id, seller=who, buyer=to,
                           price=price, currency=currency,
                           settlement_hash="0x" + digest.hex(), settlement="licence" if terms else "transfer",
                           licence=terms, deadline=ends)
    except ValidationError as exc:
        raise TradeError(f"the offer is invalid: {describe_validation_error(exc)}",
                         hint="check the values given") from None
    with registry.db.session() as session:
        if session.get(TradeOfferRecord, offer.hash_hex) is None:
            session.add(TradeOfferRecord(terms_hash=offer.hash_hex, asset_id=asset_id, seller=who, buyer=to,
                                         offer=offer.to_text(), created_at=datetime.now(UTC)))
    return offer


def _hash32(text: str, what: str) -> bytes:
    body = text[2:] if text[:2].lower() == "0x" else text
    try:
        raw = bytes.fromhex(body)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise TradeError(f"the {what} {text!r:.80} is not a 32-byte hash", hint="give 0x followed by 64 hex digits",
                         options=("settlement",))
    return raw


# ----------------------------------------------------------------------------------------------- sign


def _domain(offer: TradeOffer) -> Domain:
    return Domain(LEDGER_DOMAIN_NAME, offer.chain_id, offer.ledger)


def _message(offer: TradeOffer, nonce: int) -> dict[str, Any]:
    terms = offer.terms()
    return {"assetId": terms.asset_id, "seller": terms.seller, "buyer": terms.buyer, "price": terms.price,
            "currency": terms.currency, "settlementHash": terms.settlement_hash, "settlement": int(terms.settlement),
            "purpose": terms.purpose, "validFrom": terms.valid_from, "expiresAt": terms.expires_at,
            "quota": terms.quota, "scopeRoot": terms.scope_root, "nonce": nonce, "deadline": offer.deadline}


def _verify_offer_here(registry: Registry, offer: TradeOffer) -> None:
    deployment = registry.context.deployment()
    if (offer.chain_id, offer.ledger) != (deployment.chain_id, deployment.transaction_ledger):
        raise TradeError(f"the offer is for the ledger {offer.ledger} on chain {offer.chain_id}, but this deployment's "
                         f"is {deployment.transaction_ledger} on chain {deployment.chain_id}",
                         hint="connect to the offer's chain and deployment", options=("rpc_url",))
    now = compute_next_block_time(registry)
    if offer.deadline < now:
        raise TradeError(f"the offer's deadline {format_time(offer.deadline)} has passed (it is now "
                         f"{format_time(now)})",
                         hint="ask the seller for a new offer", kind=ErrorKind.CONFLICT)


def sign_offer(registry: Registry, offer: TradeOffer, *, account: LocalAccount | None = None,
               passwords: Sequence[PasswordSource] = ()) -> TradeSignature:
    """The buyer's countersignature of ``offer`` with its next ledger nonce (nothing is sent). ``account``
    defaults to the settings' signing account, which must be the offer's buyer."""
    _verify_offer_here(registry, offer)
    signer = account if account is not None else registry.context.unlock(*passwords, acting=lambda: [offer.buyer])
    if signer.address != offer.buyer:
        raise TradeError(f"the offer's buyer is {offer.buyer}, but the signing account is {signer.address}",
                         hint="sign with the buyer's account", options=("account",), kind=ErrorKind.CONFLICT)
    nonce = registry.context.contracts().ledger.nonce_of(offer.buyer)
    signature = sign_trade(signer.key, _domain(offer), offer.terms(), nonce, offer.deadline)
    return TradeSignature(kind=SIGNATURE_KIND, version=1, offer_hash=offer.hash_hex, buyer=offer.buyer, nonce=nonce,
                          signature="0x" + signature.hex())


def verify_signature(offer: TradeOffer, signature: TradeSignature) -> None:
    """Check that ``signature`` is the buyer's over ``offer`` (offline); :class:`TradeError` if not."""
    if signature.offer_hash != offer.hash_hex:
        raise TradeError(f"the signature is of offer {signature.offer_hash}, not of this offer ({offer.hash_hex})",
                         hint="give the signature the buyer made of this offer")
    message = encode_typed_data(full_message=typed_data(TRADE_TYPE, _domain(offer), _message(offer, signature.nonce)))
    try:
        signer = Account.recover_message(message, signature=bytes.fromhex(signature.signature[2:]))
    except Exception:  # a signature that recovers to no key
        signer = None
    if signer != offer.buyer:
        raise TradeError(f"the signature was not made by the buyer {offer.buyer} over this offer (it recovers to "
                         f"{signer})", hint="ask the buyer to sign the offer")


# ----------------------------------------------------------------------------------------------- record


def get_trade_record(registry: Registry, offer: TradeOffer, signature: TradeSignature | None = None
                     ) -> TradeRecord | None:
    """The TradeRecorded event of ``offer`` itself on chain, or None.

    The event names the asset, seller, buyer, price, currency and settlement, but neither the licence terms nor
    the signature's deadline: another offer on the same asset to the same buyer at the same price (another window
    or quota, another deadline) emits the same fields. So a candidate event is ``offer``'s only when the
    transaction that emitted it called ``recordTrade`` with exactly the offer's terms and deadline. When the
    call came through another contract (its input is not a ``recordTrade`` call), what the chain shows instead
    must agree: for a licence, the grant the trade created has the offer's terms, and, with ``signature``, the
    buyer's nonce has moved past the signature's."""
    context = registry.context
    deployment = context.deployment()
    decoder = context.contracts().decoder
    reader = LogReader(context.connection.w3, endpoint=context.connection.endpoint)
    terms = offer.terms()
    topics: list[Any] = [TRADE_RECORDED, None, "0x" + offer.asset_id.to_bytes(32, "big").hex(),
                         "0x" + bytes.fromhex(offer.seller[2:]).rjust(32, b"\0").hex()]
    for log in reader.logs(deployment.transaction_ledger, deployment.deploy_block, topics=topics):
        record = decoder.decode_log(log)
        if (isinstance(record, TradeRecord) and record.buyer == terms.buyer and record.price == terms.price
                and record.currency == terms.currency and record.settlement_hash == terms.settlement_hash
                and record.settlement == terms.settlement and _is_offers_trade(registry, offer, record, signature)):
            return record
    return None


def get_trade_call(to: str | None, data: bytes, ledger: str) -> tuple[TradeTerms, int] | None:
    """The terms and deadline of a transaction sent to ``ledger`` with the calldata ``data``, when it is a direct
    ``recordTrade`` call; None otherwise."""
    if to is None or to.lower() != ledger.lower() or bytes(data[:4]) != RECORD_TRADE_SELECTOR:
        return None
    try:
        values, deadline, _ = abi_decode(list(RECORD_TRADE_TYPES), bytes(data[4:]))
        fields = list(values)
        fields[1], fields[2], fields[6] = to_checksum_address(fields[1]), to_checksum_address(fields[2]), \
            Settlement(fields[6])
        return TradeTerms(*fields), int(deadline)
    except Exception:  # calldata that does not decode as recordTrade's arguments
        return None


def _is_offers_trade(registry: Registry, offer: TradeOffer, record: TradeRecord,
                     signature: TradeSignature | None) -> bool:
    """Whether ``record`` (whose event fields match ``offer``'s) is ``offer``'s trade (see :func:`get_trade_record`)."""
    w3 = registry.context.connection.w3
    tx = w3.eth.get_transaction(record.tx.tx_hash)  # type: ignore[arg-type]
    call = get_trade_call(tx.get("to"), bytes(tx.get("input", b"")), offer.ledger)
    if call is not None:
        terms, deadline = call
        return terms.as_tuple() == offer.terms().as_tuple() and deadline == offer.deadline
    if offer.licence is not None:
        receipt = w3.eth.get_transaction_receipt(record.tx.tx_hash)  # type: ignore[arg-type]
        created = next((r for r in registry.context.contracts().decoder.decode_receipt(receipt)
                        if isinstance(r, GrantRecord) and r.grant_id == record.grant_id), None)
        lic = offer.licence
        if created is None or (created.grantee, created.purpose, created.valid_from, created.expires_at,
                               created.quota, "0x" + created.scope_root.hex()) != (
                offer.buyer, keccak(text=lic.purpose), lic.valid_from, lic.expires_at, lic.quota, lic.scope_root):
            return False
    if signature is not None:
        return bool(registry.context.contracts().ledger.nonce_of(offer.buyer) > signature.nonce)
    return True


def record_trade(
    registry: Registry,
    offer: TradeOffer,
    signature: TradeSignature,
    *,
    sender: TxSender | None = None,
    passwords: Sequence[PasswordSource] = (),
    hook: Hook | None = None,
) -> TradeResult:
    """Record and settle ``offer`` with the buyer's ``signature`` (the seller or its TRADE operator).
    ``hook(moment)`` sees the outbox's moments (``"trade:prepared"``, ...)."""
    verify_signature(offer, signature)
    key = offer.hash_hex
    write = f"trade:{offer.chain_id}:{offer.ledger}:{key}"
    signer = None
    earlier = get_record(registry.db, write)
    if earlier is not None:  # an earlier run: what it sent is waited for, never sent again
        signer = signing_sender(registry, sender, passwords,
                                acting=acting_for(registry, offer.seller, TRADE, earlier=earlier.sender))
        writes_outbox(registry, signer, hook).reconcile(
            write, lambda: get_trade_record(registry, offer, signature) is not None)
    prior = get_trade_record(registry, offer, signature)
    if prior is not None:
        if signer is not None:
            writes_outbox(registry, signer).mark_done(write, tx_hash=prior.tx.tx_hash,
                                                      block_number=prior.tx.block_number)
        _mark(registry, offer, prior)
        return TradeResult(offer, prior, already_recorded=True)
    _verify_offer_here(registry, offer)
    contracts = registry.context.contracts()
    nonce = contracts.ledger.nonce_of(offer.buyer)
    if nonce != signature.nonce:
        raise TradeError(f"the buyer's signature was made with nonce {signature.nonce}, but the buyer's next nonce is "
                         f"{nonce} (a signature of theirs was used or voided since)",
                         hint="ask the buyer to sign the offer again", kind=ErrorKind.CONFLICT)
    signer = signer or signing_sender(registry, sender, passwords, acting=acting_for(registry, offer.seller, TRADE))
    asset = contracts.registry.asset(offer.asset_id)
    if asset.owner != offer.seller:
        raise TradeError(f"the seller {offer.seller} no longer owns asset {offer.asset_id} (its owner is "
                         f"{asset.owner})",
                         hint="the offer cannot be recorded; make a new one as the owner", kind=ErrorKind.CONFLICT)
    if asset.status != AssetStatus.Active:
        raise TradeError(f"asset {offer.asset_id} is {asset.status.name}: trades are recorded for Active assets only",
                         hint="wait until it is Active", kind=ErrorKind.CONFLICT)
    if signer.address != offer.seller and not contracts.ledger.operator_powers(offer.seller, signer.address) & TRADE:
        raise TradeError(f"{signer.address} is neither the seller {offer.seller} nor an operator it gave the TRADE "
                         "power", hint="record the trade with the seller's account", options=("account",),
                         kind=ErrorKind.CONFLICT)
    with registry.db.session() as session:
        if session.get(TradeOfferRecord, key) is None:
            session.add(TradeOfferRecord(terms_hash=key, asset_id=offer.asset_id, seller=offer.seller,
                                         buyer=offer.buyer, offer=offer.to_text(), created_at=datetime.now(UTC)))
    outbox = writes_outbox(registry, signer, hook)
    payload = {"offerHash": key, "assetId": offer.asset_id, "buyer": offer.buyer, "nonce": signature.nonce}
    if outbox.get(write) is None:
        outbox.prepare(write, "trade", payload)
    else:  # an earlier run's intent that never reached the chain
        outbox.renew(write, payload)
    ledger = registry.context.contracts(signer).ledger

    def send() -> Any:
        submitted = ledger.submit_record_trade(offer.terms(), offer.deadline, bytes.fromhex(signature.signature[2:]),
                                               gas=ESTIMATE)
        with registry.db.session() as session:
            row = session.get(TradeOfferRecord, key)
            if row is not None:
                row.state, row.tx_hash = SENT, submitted.tx_hash
                session.add(row)
        return submitted

    delivered = outbox.deliver(write, send, lambda: get_trade_record(registry, offer, signature) is not None)
    record: TradeRecord | None = None
    receipt = delivered_receipt(registry, delivered)
    if receipt is not None:
        record = next((r for r in contracts.decoder.decode_receipt(receipt) if isinstance(r, TradeRecord)), None)
    record = record or get_trade_record(registry, offer, signature)
    if record is None:  # pragma: no cover - delivered means the chain has it
        raise TradeError(f"the trade of offer {key} was delivered but its TradeRecorded event is not in the logs",
                         hint="check the node, then run again", kind=ErrorKind.UNAVAILABLE)
    _mark(registry, offer, record)
    return TradeResult(offer, record, already_recorded=delivered.resumed)


def _mark(registry: Registry, offer: TradeOffer, record: TradeRecord) -> None:
    with registry.db.session() as session:
        row = session.get(TradeOfferRecord, offer.hash_hex)
        if row is None:
            row = TradeOfferRecord(terms_hash=offer.hash_hex, asset_id=offer.asset_id, seller=offer.seller,
                                   buyer=offer.buyer, offer=offer.to_text(), created_at=datetime.now(UTC))
        row.state, row.tx_hash, row.trade_id = RECORDED, record.tx.tx_hash, record.trade_id
        row.grant_id, row.recorded_at = record.grant_id or None, datetime.now(UTC)
        session.add(row)


__all__ = ["LicenceOffer", "Settlement", "TradeError", "TradeOffer", "TradeResult", "TradeSignature", "offer_trade",
           "read_offer", "read_signature", "record_trade", "sign_offer", "verify_signature"]
