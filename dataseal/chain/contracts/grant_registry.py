"""The GrantRegistry client: authorizations to use an asset for a purpose, window and quota."""
from __future__ import annotations

from dataseal.chain.contracts.client import ESTIMATE, ContractClient, Gas, Submitted, only
from dataseal.chain.contracts.records import (
    ZERO32,
    Grant,
    GrantRecord,
    GrantRevocation,
    GrantStatus,
    GrantTerms,
    NonceUse,
)
from dataseal.chain.values import address, bytes32, checksummed


class GrantRegistryClient(ContractClient):
    """GrantRegistry: authorizations to use an asset for a purpose, window and quota."""

    contract_name = "GrantRegistry"

    def submit_grant(self, asset_id: int, grantee: str, purpose: bytes, valid_from: int, expires_at: int,
                     quota: int, scope_root: bytes = ZERO32, *,
                     gas: Gas = None) -> Submitted[GrantRecord]:
        terms = GrantTerms(asset_id, grantee, purpose, valid_from, expires_at, quota, scope_root)
        return self._submit("grant", terms.as_tuple(), only(GrantRecord), gas)

    def grant(self, asset_id: int, grantee: str, purpose: bytes, valid_from: int, expires_at: int, quota: int,
              scope_root: bytes = ZERO32) -> GrantRecord:
        """Grant ``grantee`` the use of ``asset_id`` (the asset's owner)."""
        return self.submit_grant(asset_id, grantee, purpose, valid_from, expires_at, quota, scope_root,
                                 gas=ESTIMATE).wait()

    def submit_grant_by_sig(self, terms: GrantTerms, deadline: int, signature: bytes, *,
                            gas: Gas = None) -> Submitted[GrantRecord]:
        return self._submit("grantBySig", (terms.as_tuple(), deadline, bytes(signature)), only(GrantRecord), gas)

    def grant_by_sig(self, terms: GrantTerms, deadline: int, signature: bytes) -> GrantRecord:
        """Relay a grant the asset's owner signed (EIP-712, :func:`dataseal.chain.accounts.eip712.sign_grant`)."""
        return self.submit_grant_by_sig(terms, deadline, signature, gas=ESTIMATE).wait()

    def submit_revoke(self, grant_id: int, reason_hash: bytes = ZERO32, *,
                      gas: Gas = None) -> Submitted[GrantRevocation]:
        return self._submit("revoke", (grant_id, bytes32(reason_hash, "reason_hash")), only(GrantRevocation), gas)

    def revoke(self, grant_id: int, reason_hash: bytes = ZERO32) -> GrantRevocation:
        """Revoke a grant (the asset's current owner)."""
        return self.submit_revoke(grant_id, reason_hash, gas=ESTIMATE).wait()

    def submit_use_nonce(self, *, gas: Gas = None) -> Submitted[NonceUse]:
        return self._submit("useNonce", (), only(NonceUse), gas)

    def use_nonce(self) -> NonceUse:
        """Void the sender's next grant signature (any signed, unused grant with it)."""
        return self.submit_use_nonce(gas=ESTIMATE).wait()

    # reads

    def grant_of(self, grant_id: int) -> Grant:
        g = self._read("grantOf", grant_id)
        return Grant(g[0], g[1], checksummed(g[2]), g[3], g[4], g[5], g[6], g[7], bytes(g[8]),
                     GrantStatus(g[9]))

    def remaining(self, grant_id: int) -> int:
        return int(self._read("remaining", grant_id))

    def is_usable(self, grant_id: int, timestamp: int) -> bool:
        return bool(self._read("isUsable", grant_id, timestamp))

    def nonce_of(self, owner: str) -> int:
        """The EIP-712 nonce of ``owner`` (for grantBySig)."""
        return int(self._read("nonces", address(owner, "owner")))

    def total_grants(self) -> int:
        return int(self._read("totalGrants"))
