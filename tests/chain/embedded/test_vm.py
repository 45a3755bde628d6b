"""The embedded chain's rules (dataseal.chain.embedded.vm): blocks may share their parent's timestamp but
never go back in time, the gas limit stays as genesis set it, and the chain and VM classes run the
interpreter named (fast or stock), one class per name."""
from __future__ import annotations

from typing import Any, cast

import pytest
from eth.chains.base import MiningChain
from eth.db.atomic import AtomicDB
from eth.vm.forks.prague import PragueVM
from eth_typing import BlockNumber
from eth_utils import ValidationError

from dataseal.chain.embedded.interpreter import FAST, STOCK, interpreter
from dataseal.chain.embedded.interpreter.loop import LeanComputation
from dataseal.chain.embedded.vm import ZERO_ADDRESS, DatasealChain, DatasealVM, block_vm, call_vm, chain_class

GENESIS_TIME = 1_900_000_000
GAS_LIMIT = 100_000
INTERPRETERS = ("fast", "stock")


class PragueChain(MiningChain):
    """Mainnet's rules, to show where the embedded chain departs from them."""

    chain_id = 1
    vm_configuration = ((BlockNumber(0), PragueVM),)


def new_chain(cls: type[MiningChain]) -> Any:
    """An in-memory chain of ``cls`` from a genesis at GENESIS_TIME with blocks of GAS_LIMIT gas."""
    params: Any = {"coinbase": ZERO_ADDRESS, "difficulty": 0, "gas_limit": GAS_LIMIT, "timestamp": GENESIS_TIME,
                   "extra_data": b""}
    return cls.from_genesis(AtomicDB(), params, {})


@pytest.mark.parametrize("name", INTERPRETERS)
def test_a_block_may_share_its_parents_timestamp(name: str) -> None:
    chain = new_chain(chain_class(1, name))
    first = chain.mine_block(timestamp=GENESIS_TIME)
    second = chain.mine_block(timestamp=GENESIS_TIME)
    assert (first.number, second.number) == (1, 2)
    assert first.header.timestamp == second.header.timestamp == GENESIS_TIME
    # another node of the chain accepts them as they are
    other = new_chain(chain_class(1, name))
    for block in (first, second):
        other.import_block(block)
    assert other.get_canonical_head() == second.header


def test_mainnet_rules_would_refuse_the_same_timestamp() -> None:
    chain = new_chain(chain_class(1))
    genesis = chain.get_canonical_head()
    header = chain.create_header_from_parent(genesis, timestamp=GENESIS_TIME)
    DatasealVM.validate_header(header, genesis)
    with pytest.raises(ValidationError, match="timestamp must be strictly later than parent"):
        PragueVM.validate_header(header, genesis)


@pytest.mark.parametrize("name", INTERPRETERS)
def test_a_timestamp_never_goes_back(name: str) -> None:
    chain = new_chain(chain_class(1, name))
    chain.mine_block(timestamp=GENESIS_TIME + 10)
    with pytest.raises(ValidationError, match="is 1 seconds before"):
        chain.mine_block(timestamp=GENESIS_TIME + 9)
    assert chain.get_canonical_head().block_number == 1


def test_a_header_at_its_parents_time_is_otherwise_checked_as_usual() -> None:
    chain = new_chain(chain_class(1))
    genesis = chain.get_canonical_head()
    header = chain.create_header_from_parent(genesis, timestamp=GENESIS_TIME)
    with pytest.raises(ValidationError, match="invalid base fee per gas"):
        DatasealVM.validate_header(header.copy(base_fee_per_gas=header.base_fee_per_gas + 1), genesis)
    with pytest.raises(ValidationError, match="numbered consecutively"):
        DatasealVM.validate_header(header.copy(block_number=2), genesis)


def test_the_gas_limit_stays_as_genesis_set_it() -> None:
    chain = new_chain(chain_class(1))
    genesis = chain.get_canonical_head()
    assert chain.create_header_from_parent(genesis, timestamp=GENESIS_TIME + 1, gas_limit=5_000_000).gas_limit == (
        GAS_LIMIT)  # even when asked for another
    for offset in range(1, 4):
        assert chain.mine_block(timestamp=GENESIS_TIME + offset).header.gas_limit == GAS_LIMIT
    # mainnet's rule moves the limit by a 1024th of the parent's towards a target at each block
    mainnet = new_chain(PragueChain)
    assert mainnet.mine_block(timestamp=GENESIS_TIME + 1).header.gas_limit != GAS_LIMIT


@pytest.mark.parametrize("name", INTERPRETERS)
def test_each_interpreter_has_its_block_and_call_vm(name: str) -> None:
    runner = interpreter(name)
    mining, calling = block_vm(name), call_vm(name)
    assert issubclass(mining, DatasealVM) and issubclass(calling, DatasealVM)
    assert mining.get_state_class() is runner.block_state
    assert calling.get_state_class() is runner.call_state
    assert (block_vm(name), call_vm(name)) == (mining, calling)  # one class each, reused
    assert calling.__name__ == f"{name.capitalize()}CallVM"
    lean = issubclass(mining.get_state_class().computation_class, LeanComputation)
    assert lean is (name == "fast") and lean is issubclass(calling.get_state_class().computation_class,
                                                           LeanComputation)


def test_the_fast_block_vm_is_the_vm_itself() -> None:
    assert block_vm("fast") is DatasealVM and DatasealVM.get_state_class() is FAST.block_state
    assert block_vm("stock") is not DatasealVM and block_vm("stock").__name__ == "StockBlockVM"
    assert block_vm("stock").get_state_class() is STOCK.block_state


@pytest.mark.parametrize("name", INTERPRETERS)
def test_a_chain_class_per_chain_id_and_interpreter(name: str) -> None:
    cls = chain_class(4242, name)
    assert issubclass(cls, DatasealChain) and cls.chain_id == 4242
    assert cls.__name__ == ("DatasealChain4242" if name == "fast" else "DatasealChain4242Stock")
    assert cls.get_vm_class_for_block_number(BlockNumber(0)) is block_vm(name)
    assert cls.get_vm_class_for_block_number(BlockNumber(10**6)) is block_vm(name)  # one VM for every block
    assert chain_class(4242, name) is cls and chain_class(4243, name) is not cls
    assert chain_class(4242) is chain_class(4242, "fast")
    vm = cast(Any, new_chain(cls)).get_vm()
    assert type(vm) is block_vm(name) and type(vm.state) is interpreter(name).block_state
