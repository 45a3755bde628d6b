"""EIP-712 requests signed by an asset owner and relayed by anyone.

The type strings here are the ones beside REGISTER_TYPEHASH and GRANT_TYPEHASH in the
contracts; a test checks that their hashes match the constants the contracts use.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_utils import keccak

REGISTER_TYPE = (
    "Register(address owner,bytes32 contentRoot,bytes32 manifestHash,uint8 rightsType,"
    "uint8 classification,uint256 parentId,uint256 nonce,uint256 deadline)"
)
GRANT_TYPE = (
    "Grant(uint256 assetId,address grantee,bytes32 purpose,uint64 validFrom,uint64 expiresAt,"
    "uint64 quota,bytes32 scopeRoot,uint256 nonce,uint256 deadline)"
)

REGISTRY_DOMAIN_NAME = "dataseal AssetRegistry"
GRANTS_DOMAIN_NAME = "dataseal GrantRegistry"
DOMAIN_VERSION = "1"


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
) -> bytes:
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
