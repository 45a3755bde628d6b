"""The TransactionLedger client: metered usage under grants, and trades."""
from __future__ import annotations

from dataseal.chain.contracts.client import ESTIMATE, ContractClient, Gas, Submitted, only
from dataseal.chain.contracts.records import OperatorChange, TradeRecord, UsageBatchRecord, UsageRecord
from dataseal.chain.values import address, bytes32


class TransactionLedgerClient(ContractClient):
    """TransactionLedger: metered usage under grants, and trades."""

    contract_name = "TransactionLedger"

    def submit_record_usage(self, grant_id: int, units: int, receipt_hash: bytes, *,
                            gas: Gas = None) -> Submitted[UsageRecord]:
        return self._submit("recordUsage", (grant_id, units, bytes32(receipt_hash, "receipt_hash")),
                            only(UsageRecord), gas)

    def record_usage(self, grant_id: int, units: int, receipt_hash: bytes) -> UsageRecord:
        """Record ``units`` used under ``grant_id`` (the grantee or its operator)."""
        return self.submit_record_usage(grant_id, units, receipt_hash, gas=ESTIMATE).wait()

    def submit_record_usage_batch(self, grant_id: int, units: int, receipts_root: bytes, count: int, *,
                                  gas: Gas = None) -> Submitted[UsageBatchRecord]:
        return self._submit("recordUsageBatch", (grant_id, units, bytes32(receipts_root, "receipts_root"), count),
                            only(UsageBatchRecord), gas)

    def record_usage_batch(self, grant_id: int, units: int, receipts_root: bytes, count: int) -> UsageBatchRecord:
        """Record the units of ``count`` jobs committed by the Merkle root of their receipts."""
        return self.submit_record_usage_batch(grant_id, units, receipts_root, count, gas=ESTIMATE).wait()

    def submit_record_trade(self, asset_id: int, buyer: str, seller: str, price: int, currency: bytes,
                            settlement_hash: bytes, *,
                            gas: Gas = None) -> Submitted[TradeRecord]:
        return self._submit("recordTrade", (asset_id, address(buyer, "buyer"), address(seller, "seller"), price,
                                            bytes32(currency, "currency"), bytes32(settlement_hash, "settlement_hash")),
                            only(TradeRecord), gas)

    def record_trade(self, asset_id: int, buyer: str, seller: str, price: int, currency: bytes,
                     settlement_hash: bytes) -> TradeRecord:
        """Record a trade (the seller or its operator); ``currency`` is 32 bytes, e.g. b"CNY" padded."""
        return self.submit_record_trade(asset_id, buyer, seller, price, currency, settlement_hash,
                                        gas=ESTIMATE).wait()

    def set_operator(self, operator: str, approved: bool = True) -> OperatorChange:
        """Let ``operator`` record usage and trades for the sender (or stop it)."""
        return self._submit("setOperator", (address(operator, "operator"), approved), only(OperatorChange),
                            ESTIMATE).wait()

    def is_operator(self, account: str, operator: str) -> bool:
        return bool(self._read("isOperator", address(account, "account"), address(operator, "operator")))

    def total_trades(self) -> int:
        return int(self._read("totalTrades"))
