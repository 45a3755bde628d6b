"""The TransactionLedger client: metered usage under grants, and two-sided trades settled on chain."""
from __future__ import annotations

from dataseal.chain.contracts.client import ESTIMATE, ContractClient, Gas, Submitted, only
from dataseal.chain.contracts.records import (
    NonceUse,
    OperatorChange,
    TradeRecord,
    TradeTerms,
    UsageBatchRecord,
    UsageRecord,
)
from dataseal.chain.values import address, bytes32


class TransactionLedgerClient(ContractClient):
    """TransactionLedger: metered usage under grants, and trades the buyer countersigned.

    A trade is sent by the seller (or its :data:`~dataseal.chain.contracts.records.TRADE` operator)
    with the buyer's EIP-712 signature of the terms (:func:`dataseal.chain.accounts.eip712.sign_trade`,
    nonce :meth:`nonce_of` the buyer)::

        terms = TradeTerms.transfer(asset_id, seller, buyer, price, b"CNY".ljust(32, b"\\0"), settlement_hash)
        signature = sign_trade(buyer_key, ledger_domain, terms, nonce=ledger.nonce_of(buyer), deadline=deadline)
        trade = ledger.record_trade(terms, deadline, signature)     # the token is the buyer's now
    """

    contract_name = "TransactionLedger"

    def submit_record_usage(self, grant_id: int, units: int, receipt_hash: bytes, *,
                            gas: Gas = None) -> Submitted[UsageRecord]:
        return self._submit("recordUsage", (grant_id, units, bytes32(receipt_hash, "receipt_hash")),
                            only(UsageRecord), gas)

    def record_usage(self, grant_id: int, units: int, receipt_hash: bytes) -> UsageRecord:
        """Record ``units`` used under ``grant_id`` (the grantee or its USAGE operator)."""
        return self.submit_record_usage(grant_id, units, receipt_hash, gas=ESTIMATE).wait()

    def submit_record_usage_batch(self, grant_id: int, units: int, receipts_root: bytes, count: int, *,
                                  gas: Gas = None) -> Submitted[UsageBatchRecord]:
        return self._submit("recordUsageBatch", (grant_id, units, bytes32(receipts_root, "receipts_root"), count),
                            only(UsageBatchRecord), gas)

    def record_usage_batch(self, grant_id: int, units: int, receipts_root: bytes, count: int) -> UsageBatchRecord:
        """Record the units of ``count`` jobs (1 <= count <= units) committed by the Merkle root of their receipts."""
        return self.submit_record_usage_batch(grant_id, units, receipts_root, count, gas=ESTIMATE).wait()

    def submit_record_trade(self, terms: TradeTerms, deadline: int, buyer_signature: bytes, *,
                            gas: Gas = None) -> Submitted[TradeRecord]:
        return self._submit("recordTrade", (terms.as_tuple(), deadline, bytes(buyer_signature)), only(TradeRecord),
                            gas)

    def record_trade(self, terms: TradeTerms, deadline: int, buyer_signature: bytes) -> TradeRecord:
        """Record a sale the buyer countersigned (the seller or its TRADE operator) and settle it:
        a transfer moves the token, a licence creates the buyer's grant (:attr:`TradeRecord.grant_id`)."""
        return self.submit_record_trade(terms, deadline, buyer_signature, gas=ESTIMATE).wait()

    def submit_set_operator(self, operator: str, *, powers: int, gas: Gas = None) -> Submitted[OperatorChange]:
        return self._submit("setOperator", (address(operator, "operator"), powers), only(OperatorChange), gas)

    def set_operator(self, operator: str, *, powers: int) -> OperatorChange:
        """Give ``operator`` exactly the ``powers`` to act for the sender (replacing any it had); 0 takes them away.

        :data:`~dataseal.chain.contracts.records.USAGE` lets it record usage under the sender's grants;
        :data:`~dataseal.chain.contracts.records.TRADE` lets it sell licences on the sender's behalf (and, if the
        sender also gave it the asset token's ERC-721 approval, the asset itself). There is no default: name the
        powers (``USAGE``, ``TRADE``, ``USAGE | TRADE``).
        """
        return self.submit_set_operator(operator, powers=powers, gas=ESTIMATE).wait()

    def submit_use_nonce(self, *, gas: Gas = None) -> Submitted[NonceUse]:
        return self._submit("useNonce", (), only(NonceUse), gas)

    def use_nonce(self) -> NonceUse:
        """Void the sender's next trade countersignature (any signed, unused trade with it)."""
        return self.submit_use_nonce(gas=ESTIMATE).wait()

    # reads

    def operator_powers(self, account: str, operator: str) -> int:
        """The powers (USAGE | TRADE) ``account`` gave ``operator``; 0 for none."""
        return int(self._read("operatorPowers", address(account, "account"), address(operator, "operator")))

    def nonce_of(self, buyer: str) -> int:
        """The EIP-712 nonce of ``buyer`` (for its next trade countersignature)."""
        return int(self._read("nonces", address(buyer, "buyer")))

    def total_trades(self) -> int:
        return int(self._read("totalTrades"))
