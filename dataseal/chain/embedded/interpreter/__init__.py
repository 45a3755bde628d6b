"""The EVM interpreters the embedded chain runs: py-evm's Prague, fast or stock.

Both run the same hooks (:mod:`.hooks`): jumps that let the miner give way to requests being
served (blocks); GAS/SSTORE noted for gas estimation, a deadline checked at jumps and frames, and
long precompiles stoppable by it (calls). They differ only in speed-ups that change no result:

- ``fast`` (the default): a lean opcode loop and JUMPDEST analysis shared by every run of the same
  code (:mod:`.loop`), storage tries updated in one pass per state root (:mod:`.storage`);
- ``stock``: py-evm's ``PragueComputation``, ``PragueState`` and ``AccountDB`` as they are — for
  comparing against (``tests/chain/embedded/interpreter/test_differential.py``) and for ruling the
  speed-ups out when something looks wrong (``Tuning(interpreter="stock")``).

Each :class:`Interpreter` gives two state classes, which a VM class takes as its ``_state_class``:
``block_state`` for mining, ``call_state`` for eth_call / eth_estimateGas. (The rules of the
chain — the same-timestamp rule, the constant gas limit — are the VM's and the chain's:
:mod:`dataseal.chain.embedded.vm`.)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth.vm.forks.prague.computation import PragueComputation
from eth.vm.forks.prague.state import PragueState

from dataseal.chain.embedded.interpreter.hooks import (
    NO_DEADLINE,
    CallHooks,
    Deadline,
    block_opcodes,
    call_opcodes,
    call_precompiles,
)
from dataseal.chain.embedded.interpreter.keccak import use_native_keccak
from dataseal.chain.embedded.interpreter.loop import LeanComputation
from dataseal.chain.embedded.interpreter.storage import BatchedAccountDB

__all__ = ["FAST", "STOCK", "Interpreter", "interpreter", "use_native_keccak"]


@dataclass(frozen=True)
class Interpreter:
    name: str
    block_state: type[PragueState]  # mining: jumps give way to requests being served
    call_state: type[PragueState]  # calls: GAS/SSTORE noted, a deadline (``state.deadline``) at jumps and frames


# The precompiles of calls (py-evm types each fork's table differently: Any for both classes).
CALL_PRECOMPILES: Any = call_precompiles(PragueComputation.get_precompiles())

# ------------------------------------------------------------------------------------- fast


class FastBlockComputation(LeanComputation):
    opcodes = block_opcodes(PragueComputation.opcodes)


class FastCallComputation(CallHooks, LeanComputation):
    opcodes = call_opcodes(PragueComputation.opcodes)
    _precompiles = CALL_PRECOMPILES


class FastBlockState(PragueState):
    account_db_class = BatchedAccountDB
    computation_class = FastBlockComputation


class FastCallState(PragueState):
    account_db_class = BatchedAccountDB
    computation_class = FastCallComputation
    deadline: Deadline = NO_DEADLINE  # each call sets its own


# ------------------------------------------------------------------------------------- stock


class StockBlockComputation(PragueComputation):
    opcodes = block_opcodes(PragueComputation.opcodes)


class StockCallComputation(CallHooks, PragueComputation):
    opcodes = call_opcodes(PragueComputation.opcodes)
    _precompiles = CALL_PRECOMPILES


class StockBlockState(PragueState):
    computation_class = StockBlockComputation


class StockCallState(PragueState):
    computation_class = StockCallComputation
    deadline: Deadline = NO_DEADLINE  # each call sets its own


FAST = Interpreter("fast", FastBlockState, FastCallState)
STOCK = Interpreter("stock", StockBlockState, StockCallState)
_BY_NAME = {i.name: i for i in (FAST, STOCK)}


def interpreter(name: str) -> Interpreter:
    """The interpreter called ``name`` (``fast`` or ``stock``; :class:`Tuning` checks the name)."""
    return _BY_NAME[name]
