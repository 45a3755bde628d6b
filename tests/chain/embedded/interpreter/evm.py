"""Running bytecode on one of the embedded chain's interpreters, for the interpreter's tests.

The code sits at CODE_ADDRESS (and at CODE_COPY, an address a PUSH1 reaches, for calls into the
same code) on an in-memory chain whose genesis funds CALLER; it runs as CALLER's transaction on
the VM of a block or of a call (``purpose``), at gas price 0, on the state after genesis.
"""
from __future__ import annotations

from functools import cache
from typing import Any, Literal, cast

from eth.abc import ComputationAPI, SignedTransactionAPI, StateAPI
from eth.db.atomic import AtomicDB
from eth.vm.chain_context import ChainContext
from eth.vm.spoof import SpoofTransaction
from eth_utils import to_canonical_address

from dataseal.chain.embedded.vm import ZERO_ADDRESS, DatasealChain, block_vm, call_vm, chain_class

CODE_ADDRESS = to_canonical_address("0x" + "c0de" * 10)
CODE_COPY = (0x40).to_bytes(20, "big")  # the same code again, where PUSH1 0x40 CALL reaches it (0x01-0x11: precompiles)
CALLER = to_canonical_address("0x" + "ca11" * 10)
GENESIS_TIME = 1_900_000_000
Purpose = Literal["block", "call"]


@cache
def genesis_chain(name: str) -> DatasealChain:
    """An in-memory chain of the interpreter ``name`` whose genesis funds the caller."""
    params: dict[str, Any] = {"coinbase": ZERO_ADDRESS, "difficulty": 0, "gas_limit": 30_000_000,
                              "timestamp": GENESIS_TIME, "extra_data": b""}
    state = {CALLER: {"balance": 10**24, "nonce": 0, "code": b"", "storage": {}},
             CODE_ADDRESS: {"balance": 10**18, "nonce": 1, "code": b"", "storage": {3: 7}}}
    return cast(DatasealChain, chain_class(1, name).from_genesis(AtomicDB(), cast(Any, params), cast(Any, state)))


def execute(name: str, purpose: Purpose, code: bytes, *, data: bytes = b"", value: int = 0, gas: int = 100_000,
            deadline: Any = None) -> tuple[ComputationAPI, StateAPI]:
    """Run ``code`` on the interpreter ``name``; the transaction's computation and the state after it.
    ``deadline`` (calls): what the call's VM checks at jumps and frames."""
    chain = genesis_chain(name)
    parent = chain.get_canonical_head()
    header = chain.create_header_from_parent(parent, timestamp=GENESIS_TIME + 1, coinbase=ZERO_ADDRESS)
    vm_class = block_vm(name) if purpose == "block" else call_vm(name)
    vm = vm_class(header=header.copy(base_fee_per_gas=0), chaindb=chain.chaindb, chain_context=ChainContext(1),
                  consensus_context=chain.consensus_context)
    state = vm.state
    if deadline is not None:
        cast(Any, state).deadline = deadline
    state.set_code(CODE_ADDRESS, code)
    state.set_code(CODE_COPY, code)
    builder: Any = vm.get_transaction_builder()
    unsigned = builder.new_unsigned_dynamic_fee_transaction(
        chain_id=1, nonce=0, max_priority_fee_per_gas=0, max_fee_per_gas=0, gas=gas, to=CODE_ADDRESS,
        value=value, data=data, access_list=(),
    )
    computation = state.apply_transaction(cast(SignedTransactionAPI, SpoofTransaction(unsigned, from_=CALLER)))
    return computation, state
