"""The embedded chain's rules: py-evm's Prague VM on a single-node, proof-less chain.

Two departures from mainnet rules, both for a chain with one block producer:

- the gas limit stays constant (no voting);
- a block may carry the same timestamp as its parent. Blocks are produced as fast as
  transactions arrive (several per second under load); forcing each one a second later than
  the last would push ``block.timestamp`` — the registration time dataseal records as evidence —
  hours ahead of the wall clock after a busy spell. Timestamps never go backwards.

The VMs run one of the interpreters of :mod:`dataseal.chain.embedded.interpreter` (fast or
stock): :func:`chain_class` gives the chain class mining with the chosen one's block VM,
:func:`call_vm` the VM of its calls.
"""
from __future__ import annotations

from typing import Any

from eth.abc import BlockHeaderAPI
from eth.chains.base import MiningChain
from eth.vm.forks.prague import PragueVM
from eth.vm.forks.prague.state import PragueState
from eth_typing import BlockNumber

from dataseal.chain.embedded.interpreter import FAST, Interpreter, interpreter

ZERO_ADDRESS = b"\0" * 20
EXTRA_DATA = b"dataseal"


class DatasealVM(PragueVM):
    """PragueVM accepting a block whose timestamp equals its parent's (see the module doc); it runs
    the fast interpreter's block state unless a subclass (:func:`chain_class`) says otherwise."""

    _state_class = FAST.block_state

    @classmethod
    def validate_header(cls, header: BlockHeaderAPI, parent_header: BlockHeaderAPI) -> None:
        if parent_header is not None and header.timestamp == parent_header.timestamp:
            # Everything else about the header is checked against its parent as usual.
            parent_header = parent_header.copy(timestamp=parent_header.timestamp - 1)
        super().validate_header(header, parent_header)


class DatasealChain(MiningChain):
    """The chain class; :func:`chain_class` fixes its chain id and its VM."""

    vm_configuration = ((BlockNumber(0), DatasealVM),)

    def create_header_from_parent(self, parent_header: BlockHeaderAPI, **header_params: Any) -> BlockHeaderAPI:
        header_params["gas_limit"] = parent_header.gas_limit
        return super().create_header_from_parent(parent_header, **header_params)


def _vm(runner: Interpreter, purpose: str, state: type[PragueState]) -> type[DatasealVM]:
    name = f"{runner.name.capitalize()}{purpose}VM"
    return type(name, (DatasealVM,), {"_state_class": state, "__doc__": f"DatasealVM with the {runner.name} "
                                      f"interpreter's {purpose.lower()} state."})


_BLOCK_VMS: dict[str, type[DatasealVM]] = {}
_CALL_VMS: dict[str, type[DatasealVM]] = {}
_CHAINS: dict[tuple[int, str], type[DatasealChain]] = {}


def block_vm(name: str) -> type[DatasealVM]:
    """The VM that mines with the interpreter ``name`` (one class per interpreter, reused)."""
    if name not in _BLOCK_VMS:
        runner = interpreter(name)
        _BLOCK_VMS[name] = DatasealVM if runner is FAST else _vm(runner, "Block", runner.block_state)
    return _BLOCK_VMS[name]


def call_vm(name: str) -> type[DatasealVM]:
    """The VM of eth_call / eth_estimateGas with the interpreter ``name`` (see :mod:`.interpreter.hooks`)."""
    if name not in _CALL_VMS:
        runner = interpreter(name)
        _CALL_VMS[name] = _vm(runner, "Call", runner.call_state)
    return _CALL_VMS[name]


def chain_class(chain_id: int, interpreter_name: str = "fast") -> type[DatasealChain]:
    """The :class:`DatasealChain` subclass for ``chain_id`` mining with the interpreter named (one
    class per pair, reused)."""
    key = (chain_id, interpreter_name)
    if key not in _CHAINS:
        suffix = "" if interpreter_name == "fast" else interpreter_name.capitalize()
        _CHAINS[key] = type(f"DatasealChain{chain_id}{suffix}", (DatasealChain,), {
            "chain_id": chain_id, "vm_configuration": ((BlockNumber(0), block_vm(interpreter_name)),),
        })
    return _CHAINS[key]
