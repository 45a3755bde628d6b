"""The embedded chain's rules: py-evm's Prague VM on a single-node, proof-less chain.

Two departures from mainnet rules, both for a chain with one block producer:

- the gas limit stays constant (no voting);
- a block may carry the same timestamp as its parent. Blocks are produced as fast as
  transactions arrive (several per second under load); forcing each one a second later than
  the last would push ``block.timestamp`` — the registration time dataseal records as evidence —
  hours ahead of the wall clock after a busy spell. Timestamps never go backwards.

Two shortcuts that change no result, only the CPU spent per transaction: storage tries updated
in one pass per state root (:mod:`chain.embedded.statetrie`), and the JUMPDEST analysis of a
contract's code shared by all the calls that run it (:class:`DatasealComputation`).
"""
from __future__ import annotations

import os
from typing import Any, cast

from eth.abc import BlockHeaderAPI, ComputationAPI, MessageAPI, OpcodeAPI, StateAPI, TransactionContextAPI
from eth.chains.base import MiningChain
from eth.vm.forks.prague import PragueVM
from eth.vm.forks.prague.computation import PragueComputation
from eth.vm.forks.prague.state import PragueState
from eth.vm.opcode_values import GAS, SSTORE
from eth_typing import BlockNumber
from lru import LRU

from chain.embedded.statetrie import BatchedAccountDB

DEFAULT_CHAIN_ID = 0x64617461  # 1684108385: the ASCII bytes of "data"; not a public chain's id
DEFAULT_GAS_LIMIT = 30_000_000
DEFAULT_FUNDING_WEI = 1_000_000 * 10**18
ZERO_ADDRESS = b"\0" * 20
EXTRA_DATA = b"dataseal"


def use_native_keccak() -> str:
    """Have eth-hash — py-evm's and web3's keccak256 — use safe-pysha3's C function; the backend's name.

    eth-hash picks pycryptodome first when both are installed, whose ctypes call costs ~5 µs and
    releases the GIL on every hash (py-evm hashes ~60 times per transaction: tries, storage keys,
    blooms); safe-pysha3 costs under 1 µs and computes the same digest. An explicit
    ``ETH_HASH_BACKEND`` is left alone, as is a missing safe-pysha3. Process-wide and idempotent.
    """
    if os.environ.get("ETH_HASH_BACKEND"):
        return os.environ["ETH_HASH_BACKEND"]
    try:
        from eth_hash.backends import pysha3
    except ImportError:  # pragma: no cover - safe-pysha3 is a dependency
        return "auto"
    from eth_hash.auto import keccak

    backend = pysha3.backend
    if backend.keccak256(b"") != bytes.fromhex("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"):
        return "auto"  # pragma: no cover - a broken build: keep eth-hash's own choice
    keccak.hasher = backend.keccak256  # type: ignore[assignment]
    keccak.preimage = backend.preimage  # type: ignore[assignment]
    return "pysha3"


# Code -> (positions known valid, positions known invalid) as jump destinations.
_JUMP_ANALYSIS: LRU[bytes, tuple[set[int], set[int]]] = LRU(256)


class DatasealComputation(PragueComputation):
    """A computation whose code stream shares its JUMPDEST findings with every other run of the same code.

    py-evm's ``CodeStream`` works out whether a jump target is an opcode or PUSH data by looking
    back up to 32 bytes, recursively, and memoizes the answer in two sets of its own, so each call
    of a contract starts over (a hundred look-backs per registration). The answer depends on the
    code alone: streams of the same code get the same two sets, kept for the 256 codes run last.
    """

    def __init__(self, state: StateAPI, message: MessageAPI, transaction_context: TransactionContextAPI) -> None:
        super().__init__(state, message, transaction_context)
        code = message.code
        known = _JUMP_ANALYSIS.get(code)
        if known is None:
            known = _JUMP_ANALYSIS[code] = (set(), set())
        self.code.valid_positions, self.code.invalid_positions = known  # type: ignore[attr-defined]


class DatasealState(PragueState):
    """PragueState with one-pass storage trie updates and shared jump analysis (see the module doc)."""

    account_db_class = BatchedAccountDB
    computation_class = DatasealComputation


class DatasealVM(PragueVM):
    """PragueVM accepting a block whose timestamp equals its parent's (see the module doc)."""

    _state_class = DatasealState

    @classmethod
    def validate_header(cls, header: BlockHeaderAPI, parent_header: BlockHeaderAPI) -> None:
        if parent_header is not None and header.timestamp == parent_header.timestamp:
            # Everything else about the header is checked against its parent as usual.
            parent_header = parent_header.copy(timestamp=parent_header.timestamp - 1)
        super().validate_header(header, parent_header)


class DatasealChain(MiningChain):
    """The chain class; :func:`chain_class` fixes its chain id."""

    vm_configuration = ((BlockNumber(0), DatasealVM),)

    def create_header_from_parent(self, parent_header: BlockHeaderAPI, **header_params: Any) -> BlockHeaderAPI:
        header_params["gas_limit"] = parent_header.gas_limit
        return super().create_header_from_parent(parent_header, **header_params)


_classes: dict[int, type[DatasealChain]] = {}


def chain_class(chain_id: int) -> type[DatasealChain]:
    """The :class:`DatasealChain` subclass for ``chain_id`` (one class per id, reused)."""
    if chain_id not in _classes:
        _classes[chain_id] = type(f"DatasealChain{chain_id}", (DatasealChain,), {"chain_id": chain_id})
    return _classes[chain_id]


class _Noting:
    """An opcode that also sets a flag on the computation running it."""

    def __init__(self, inner: Any, flag: str) -> None:
        self.inner = inner
        self.flag = flag
        self.mnemonic = inner.mnemonic
        self.gas_cost = inner.gas_cost

    def __call__(self, computation: ComputationAPI) -> None:
        setattr(computation, self.flag, True)
        return self.inner(computation)


def _noting(opcode: int, flag: str) -> OpcodeAPI:
    return cast(OpcodeAPI, _Noting(PragueComputation.opcodes[opcode], flag))


class EstimationComputation(DatasealComputation):
    """A computation that records whether its code executed GAS (``read_gas``) or SSTORE (``stored``).

    Gas estimation uses them: code that neither reads its gas nor calls out behaves the same under
    any gas limit that covers what it uses (plus, if it stores, the 2300 gas SSTORE insists on
    having left), so its estimate needs no second execution.
    """

    opcodes = {**PragueComputation.opcodes, GAS: _noting(GAS, "read_gas"), SSTORE: _noting(SSTORE, "stored")}
    read_gas = False
    stored = False


class EstimationState(DatasealState):
    computation_class = EstimationComputation


class CallVM(DatasealVM):
    """The VM eth_call and eth_estimateGas run in (see :class:`EstimationComputation`)."""

    _state_class = EstimationState
