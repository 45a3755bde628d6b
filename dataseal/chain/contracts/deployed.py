"""The three contract clients of one deployment, sharing a sender and an event decoder."""
from __future__ import annotations

from dataclasses import dataclass

from web3 import Web3

from dataseal.chain.contracts.asset_registry import AssetRegistryClient
from dataseal.chain.contracts.deployment import Deployment
from dataseal.chain.contracts.events import EventDecoder
from dataseal.chain.contracts.grant_registry import GrantRegistryClient
from dataseal.chain.contracts.reads import HeadReads
from dataseal.chain.contracts.transaction_ledger import TransactionLedgerClient
from dataseal.chain.sending.sender import TxSender


@dataclass
class DatasealContracts:
    """The clients of ``deployment``'s AssetRegistry, GrantRegistry and TransactionLedger."""

    deployment: Deployment
    registry: AssetRegistryClient
    grants: GrantRegistryClient
    ledger: TransactionLedgerClient
    decoder: EventDecoder

    @classmethod
    def bind(cls, w3: Web3, deployment: Deployment, sender: TxSender | None = None, *,
             reads: HeadReads | None = None) -> DatasealContracts:
        """Clients for ``deployment`` on ``w3``'s node; without ``sender`` they read but do not write. With
        ``reads`` their view calls are pinned to the head and answered once per head (for a service's readers)."""
        decoder = EventDecoder(deployment)
        return cls(
            deployment=deployment,
            registry=AssetRegistryClient(w3, deployment.asset_registry, sender, decoder=decoder, reads=reads),
            grants=GrantRegistryClient(w3, deployment.grant_registry, sender, decoder=decoder, reads=reads),
            ledger=TransactionLedgerClient(w3, deployment.transaction_ledger, sender, decoder=decoder, reads=reads),
            decoder=decoder,
        )
