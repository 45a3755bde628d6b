"""EIP-712 requests: an asset owner's registration or grant, relayed by anyone, and a buyer's
countersignature of a trade.

The type strings here are the ones beside REGISTER_TYPEHASH, GRANT_TYPEHASH and TRADE_TYPEHASH in
the contracts; a test checks that their hashes match the constants the contracts use.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from eth_account import Account
from eth_utils import keccak

REGISTER_TYPE = (
    "Register(address owner,bytes32 contentRoot,bytes32 manifestHash,uint8 rightsType,"
    "uint8 classification,uint256 parentId,uint64 validUntil,uint256 nonce,uint256 deadline)"
)
GRANT_TYPE = (
    "Grant(uint256 assetId,address grantee,bytes32 purpose,uint64 validFrom,uint64 expiresAt,"
    "uint64 quota,bytes32 scopeRoot,uint256 nonce,uint256 deadline)"
)

TRADE_TYPE = (
    "Trade(uint256 assetId,address seller,address buyer,uint256 price,bytes32 currency,bytes32 settlementHash,"
    "uint8 settlement,bytes32 purpose,uint64 validFrom,uint64 expiresAt,uint64 quota,bytes32 scopeRoot,"
    "uint256 nonce,uint256 deadline)"
)

REGISTRY_DOMAIN_NAME = "dataseal AssetRegistry"
GRANTS_DOMAIN_NAME = "dataseal GrantRegistry"
LEDGER_DOMAIN_NAME = "dataseal TransactionLedger"
DOMAIN_VERSION = "2"


class TradeTerms(Protocol):
    """What :func:`sign_trade` reads of :class:`dataseal.chain.contracts.records.TradeTerms` (accounts sign
    without knowing the contracts' modules)."""

    @property
    def asset_id(self) -> int: ...
    @property
    def seller(self) -> str: ...
    @property
    def buyer(self) -> str: ...
    @property
    def price(self) -> int: ...
    @property
    def currency(self) -> bytes: ...
    @property
    def settlement_hash(self) -> bytes: ...
    @property
    def settlement(self) -> int: ...
    @property
    def purpose(self) -> bytes: ...
    @property
    def valid_from(self) -> int: ...
    @property
    def expires_at(self) -> int: ...
    @property
    def quota(self) -> int: ...
    @property
    def scope_root(self) -> bytes: ...


def type_hash(type_string: str) -> bytes:
    return keccak(text=type_string)


def _fields(type_string: str) -> list[dict[str, str]]:
    inner = type_string[type_string.index("(") + 1 : -1]
    return [{"type": t, "name": n} for t, n in (part.split(" ") for part in inner.split(","))]


def _primary(type_string: str) -> str:
    return type_string[: type_string.index("(")]


@dataclass(frozen=True)
class Domain:
    name: str
    chain_id: int
    verifying_contract: str
    version: str = DOMAIN_VERSION

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "chainId": self.chain_id,
            "verifyingContract": self.verifying_contract,
        }


def typed_data(type_string: str, domain: Domain, message: dict[str, Any]) -> dict[str, Any]:
    """The full EIP-712 structure (as ``eth_signTypedData_v4`` takes it)."""
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            _primary(type_string): _fields(type_string),
        },
        "primaryType": _primary(type_string),
        "domain": domain.as_dict(),
        "message": message,
    }


def sign_typed(private_key: bytes | str, type_string: str, domain: Domain, message: dict[str, Any]) -> bytes:
    """A 65-byte signature of ``message`` under ``domain`` (r || s || v)."""
    signed = Account.sign_typed_data(private_key, full_message=typed_data(type_string, domain, message))
    return bytes(signed.signature)


def sign_register(
    private_key: bytes | str,
    domain: Domain,
    *,
    owner: str,
    content_root: bytes,
    manifest_hash: bytes,
    rights_type: int,
    classification: int,
    parent_id: int,
    nonce: int,
    deadline: int,
    valid_until: int = 0,
) -> bytes:
    """``owner``'s signature of a registration for registerBySig (``valid_until`` 0: no expiry)."""
    return sign_typed(
        private_key,
        REGISTER_TYPE,
        domain,
        {
            "owner": owner,
            "contentRoot": content_root,
            "manifestHash": manifest_hash,
            "rightsType": rights_type,
            "classification": classification,
            "parentId": parent_id,
            "validUntil": valid_until,
            "nonce": nonce,
            "deadline": deadline,
        },
    )


def sign_grant(
    private_key: bytes | str,
    domain: Domain,
    *,
    asset_id: int,
    grantee: str,
    purpose: bytes,
    valid_from: int,
    expires_at: int,
    quota: int,
    scope_root: bytes,
    nonce: int,
    deadline: int,
) -> bytes:
    return sign_typed(
        private_key,
        GRANT_TYPE,
        domain,
        {
            "assetId": asset_id,
            "grantee": grantee,
            "purpose": purpose,
            "validFrom": valid_from,
            "expiresAt": expires_at,
            "quota": quota,
            "scopeRoot": scope_root,
            "nonce": nonce,
            "deadline": deadline,
        },
    )


def sign_trade(private_key: bytes | str, domain: Domain, terms: TradeTerms, nonce: int, deadline: int) -> bytes:
    """The buyer's countersignature of ``terms`` for recordTrade (``nonce``: the ledger's nonce of the buyer)."""
    return sign_typed(
        private_key,
        TRADE_TYPE,
        domain,
        {
            "assetId": terms.asset_id,
            "seller": terms.seller,
            "buyer": terms.buyer,
            "price": terms.price,
            "currency": terms.currency,
            "settlementHash": terms.settlement_hash,
            "settlement": int(terms.settlement),
            "purpose": terms.purpose,
            "validFrom": terms.valid_from,
            "expiresAt": terms.expires_at,
            "quota": terms.quota,
            "scopeRoot": terms.scope_root,
            "nonce": nonce,
            "deadline": deadline,
        },
    )
