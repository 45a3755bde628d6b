"""eth_call and eth_estimateGas: executions that change nothing, bounded like geth's.

They run on a VM of their own over the state of the block they name, without the chain's lock:
the state is content-addressed and never rewritten, and the store serialises its reads, so a
slow call delays neither the miner nor other requests. Like geth, a call gets at most
``Tuning.call_gas_cap`` gas (``RPCGasCap``, 50M) and ``Tuning.call_timeout`` seconds
(``RPCEVMTimeout``, 5 s) on the chain's clock; a call still running then is stopped with an
error saying so, and so is every call running when the chain closes — inside a precompile too
(:class:`CallBudget`).

State overrides (geth's: balance, nonce, code, and storage replaced or changed per account)
are applied to a VM of the call's own over that state, which is dropped afterwards: nothing of
them is ever written, nor seen by another call.
"""
from __future__ import annotations

import ctypes
import math
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

from eth.abc import BlockHeaderAPI, ComputationAPI, SignedTransactionAPI, StateAPI, VirtualMachineAPI
from eth.exceptions import OutOfGas, Revert
from eth.vm.chain_context import ChainContext
from eth.vm.forks.shanghai.constants import MAX_INITCODE_SIZE
from eth.vm.spoof import SpoofTransaction
from eth_typing import Address
from eth_utils import ValidationError

from dataseal.chain.embedded.admission import calldata_floor
from dataseal.chain.embedded.clock import Clock
from dataseal.chain.embedded.core import ChainCore
from dataseal.chain.embedded.errors import EmbeddedChainError, ExecutionFailed, ExecutionReverted
from dataseal.chain.embedded.interpreter.hooks import TimedState
from dataseal.chain.embedded.records import BlockRef, CallRequest, StateOverride
from dataseal.chain.embedded.settings import Tuning
from dataseal.chain.embedded.vm import ZERO_ADDRESS, call_vm

SSTORE_SENTRY_GAS = 2_300  # EIP-2200: SSTORE fails unless more than this is left


class CallBudget:
    """The time one eth_call / eth_estimateGas may execute for; cancelled when the chain closes.

    The call's VM calls :meth:`check` at every jump and every new frame, :meth:`check_ahead` before
    a modexp, and runs the long precompiles inside :meth:`abandonable` (:mod:`.interpreter.hooks`).
    Within it, a watcher thread of the call's own (started at its first such precompile, ended by
    :meth:`end`) waits on the chain's clock for the deadline, or the cancellation, and then raises
    :class:`CallStopped` in the calling thread (``PyThreadState_SetAsyncExc``: delivered at the
    precompile's next Python instruction, so the pure-Python pairings and blake2f stop within
    microseconds). The execution's state is reverted and its VM not reused, as for any stopped call.
    """

    __slots__ = ("seconds", "deadline", "cancelled", "stopped", "_now", "_clock", "_guard", "_target", "_watcher",
                 "_ended")

    def __init__(self, seconds: float, clock: Clock) -> None:
        self._now = clock.monotonic
        self._clock = clock
        self.seconds = seconds
        self.deadline = self._now() + seconds
        self.cancelled = False
        self.stopped = False  # an execution was stopped by it
        self._guard = threading.Condition(threading.Lock())  # the watcher's: target, deadline, end
        self._target: int | None = None  # the thread inside abandonable(), while it is
        self._watcher: threading.Thread | None = None
        self._ended = False

    def cancel(self) -> None:
        with self._guard:
            self.cancelled = True
            self.deadline = -math.inf
            self._guard.notify_all()

    def check(self) -> None:
        if self._now() > self.deadline:
            self.stopped = True
            raise CallStopped()

    def check_ahead(self, seconds: float) -> None:
        if self._now() + seconds > self.deadline:
            self.stopped = True
            raise CallStopped()

    @contextmanager
    def abandonable(self) -> Iterator[None]:
        self.check()
        with self._guard:
            self._target = threading.get_ident()
            if self._watcher is None:
                self._watcher = threading.Thread(target=self._watch, name="call-deadline", daemon=True)
                self._watcher.start()
            self._guard.notify_all()
        try:
            yield
        finally:
            with self._guard:
                target, self._target = self._target, None
                if self.stopped and target is not None:
                    _raise_in(target, None)  # a CallStopped not delivered yet is not delivered later
        if self.stopped:
            raise CallStopped()

    def end(self) -> None:
        """The call is over: its watcher, if any, ends."""
        with self._guard:
            self._ended = True
            self._guard.notify_all()

    def _watch(self) -> None:
        with self._guard:
            while not self._ended:
                if self._target is None:
                    self._clock.wait(self._guard, None)
                    continue
                left = self.deadline - self._now()
                if left > 0:
                    self._clock.wait(self._guard, left)
                    continue
                self.stopped = True
                _raise_in(self._target, CallStopped)
                # Again while the thread is still inside abandonable(): an exception delivered while a garbage
                # collector's callback (a weakref's) runs is swallowed there ("Exception ignored in ..."), and the
                # precompile would run to its end. Leaving abandonable() clears the target and takes back one not
                # delivered yet, so nothing is raised outside it.
                self._clock.wait(self._guard, _REDELIVER_SECONDS)


#: How long the watcher waits for a stopped call to leave its precompile before raising CallStopped again.
_REDELIVER_SECONDS = 0.05


def _raise_in(thread_id: int, exception: type[BaseException] | None) -> None:
    """Raise ``exception`` in the thread ``thread_id`` at its next Python instruction (None: take back
    one not raised yet)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), None if exception is None else ctypes.py_object(exception)
    )


class CallStopped(Exception):
    """A call's time ran out. Not a py-evm VMError, so no frame of the EVM catches it: it ends the
    whole execution, whose changes the caller reverts."""


class BelowIntrinsicGas(ExecutionFailed):
    """A call given less gas than its intrinsic gas (estimation tries such limits and moves on)."""


class CallRunner:
    """Runs the calls of one chain (see the module doc)."""

    def __init__(self, core: ChainCore, tuning: Tuning) -> None:
        self._core = core
        self._tuning = tuning
        self._running: set[CallBudget] = set()  # calls executing without the lock
        self._done = threading.Condition(core.lock)  # notified as each ends
        self._lent: tuple[bytes, VirtualMachineAPI] | None = None  # a head's hash and VM (warm caches), to lend
        self._vm_class = call_vm(tuning.interpreter)

    def call(self, request: CallRequest, ref: BlockRef = "latest", overrides: Sequence[StateOverride] = ()) -> bytes:
        """Execute ``request`` on the state after block ``ref`` (changed by ``overrides``) and return its output.

        Raises :class:`ExecutionReverted` (with the revert bytes) or :class:`ExecutionFailed` (out
        of gas, invalid, stopped at the time limit).
        """
        with self._calling(ref, overrides) as (header, vm, budget):
            gas = self._gas(header, request)
            computation = self._execute(vm, request, gas, budget)
        if computation.is_error:
            raise execution_error(computation, gas)
        return bytes(computation.output)

    def estimate_gas(
        self, request: CallRequest, ref: BlockRef = "latest", overrides: Sequence[StateOverride] = ()
    ) -> int:
        """The gas limit ``request`` needs to succeed (on the state changed by ``overrides``).

        One execution at the cap tells what the transaction uses. When its code neither calls out
        nor reads its remaining gas, nothing it does depends on the limit except running out and
        SSTORE's refusal to run with 2300 gas or less left, so what it used (plus 2300 if it stored)
        is enough.
        Otherwise that is checked by executing again (adding the 1/64 each call withholds if
        needed) and, if still short, by bisection to within 0.5 %. All executions together get
        one call's time.
        """
        with self._calling(ref, overrides) as (header, vm, budget):
            cap = self._gas(header, request)
            computation = self._execute(vm, request, cap, budget)
            if computation.is_error:
                raise execution_error(computation, cap)
            used = max(cap - computation.get_gas_remaining(), calldata_floor(request.data))
            if not computation.children and not getattr(computation, "read_gas", False):
                enough = used + (SSTORE_SENTRY_GAS if getattr(computation, "stored", False) else 0)
                if enough <= cap:
                    return enough

            def succeeds(gas: int) -> bool:
                try:
                    return not self._execute(vm, request, gas, budget).is_error
                except BelowIntrinsicGas:
                    return False

            if used >= cap or succeeds(used):
                return min(used, cap)
            low, high = used, cap
            retry = min(cap, used * 64 // 63 + SSTORE_SENTRY_GAS)
            if succeeds(retry):
                high = retry
            else:
                low = retry
            while high - low > max(1_000, high // 200):  # an estimate may run a little high, never low
                middle = (low + high) // 2
                if succeeds(middle):
                    high = middle
                else:
                    low = middle
            return high

    def stop_all(self) -> None:
        """Stop the calls running and wait for them to end (the chain closing, the core's lock held)."""
        while self._running:
            for budget in self._running:
                budget.cancel()
            self._core.clock.wait(self._done, None)

    def _gas(self, header: BlockHeaderAPI, request: CallRequest) -> int:
        """The gas a call runs with: what it asks for (the block's gas limit if nothing), capped
        at the block's gas limit and ``tuning.call_gas_cap``."""
        cap = min(int(header.gas_limit), self._tuning.call_gas_cap)
        return cap if request.gas is None else min(request.gas, cap)

    @contextmanager
    def _calling(
        self, ref: BlockRef, overrides: Sequence[StateOverride] = ()
    ) -> Iterator[tuple[BlockHeaderAPI, VirtualMachineAPI, CallBudget]]:
        """A VM over the state after block ``ref``, for executing calls without the chain's lock.

        The state of a block is never rewritten (trie nodes are stored by their hash; nothing is
        pruned) and the store serialises reads, so a VM of the call's own reads it safely while
        the miner builds and commits blocks. The head's VM (warm caches) is lent to one call at a
        time and taken back unless the call failed midway or the head moved on. With ``overrides``,
        a new VM with them applied, which is never lent: it is dropped with its changes.
        """
        core = self._core
        with core.locked():
            header = core.header_for(ref)
            vm: VirtualMachineAPI | None = None
            if not overrides and self._lent is not None and self._lent[0] == header.hash == core.head.hash:
                vm, self._lent = self._lent[1], None
            if vm is None:
                vm = self._new_vm(header)
            budget = CallBudget(self._tuning.call_timeout, core.clock)
            if core.stopping:
                budget.cancel()
            self._running.add(budget)
        clean = False  # whether the VM's state is as it was (a stopped execution may leave it half reverted)
        try:
            if overrides:
                _apply_overrides(vm.state, overrides)
            yield header, vm, budget
            clean = True
        except EmbeddedChainError:
            clean = not budget.stopped
            raise
        finally:
            budget.end()
            with core.lock:
                self._running.discard(budget)
                if (clean and not overrides and header.hash == core.head.hash
                        and (self._lent is None or self._lent[0] != header.hash)):
                    self._lent = (header.hash, vm)
                self._done.notify_all()

    def _new_vm(self, header: BlockHeaderAPI) -> VirtualMachineAPI:
        # Calls pay nothing: the block's base fee is zeroed so that a zero gas price is valid.
        core = self._core
        return self._vm_class(
            header=header.copy(base_fee_per_gas=0),
            chaindb=core.chain.chaindb,
            chain_context=ChainContext(core.chain_id),
            consensus_context=core.chain.consensus_context,
        )

    def _execute(self, vm: VirtualMachineAPI, request: CallRequest, gas: int, budget: CallBudget) -> ComputationAPI:
        if request.to is None and len(request.data) > MAX_INITCODE_SIZE:  # (py-evm would raise from the VM)
            raise ExecutionFailed(
                f"max initcode size exceeded: code size {len(request.data)}, limit {MAX_INITCODE_SIZE} (EIP-3860)"
            )
        state = vm.state
        sender = request.sender or ZERO_ADDRESS
        builder: Any = vm.get_transaction_builder()
        unsigned = builder.new_unsigned_dynamic_fee_transaction(
            chain_id=self._core.chain_id,
            nonce=state.get_nonce(Address(sender)),
            max_priority_fee_per_gas=0,
            max_fee_per_gas=0,
            gas=gas,
            to=request.to or b"",
            value=request.value,
            data=request.data,
            access_list=request.access_list,
        )
        spoofed = cast(SignedTransactionAPI, SpoofTransaction(unsigned, from_=sender))
        intrinsic = max(int(spoofed.intrinsic_gas), calldata_floor(request.data))
        if gas < intrinsic:
            raise BelowIntrinsicGas(
                f"gas required exceeds allowance ({gas}): the intrinsic gas alone is {intrinsic}; give it at least "
                f"{intrinsic} gas"
            )
        cast(TimedState, state).deadline = budget
        snapshot = state.snapshot()
        try:
            return state.apply_transaction(spoofed)
        except ValidationError as exc:
            raise ExecutionFailed(str(exc)) from None
        except CallStopped:
            if budget.cancelled:
                raise ExecutionFailed(
                    "the node is shutting down: the call was stopped; send it again once the node is back"
                ) from None
            seconds = f"{budget.seconds:g}"
            raise ExecutionFailed(
                f"execution aborted (timeout = {seconds}s): the call was stopped after {seconds} s of EVM execution "
                f"with {gas} gas left to burn; give it a lower gas limit, or fix the code it runs (an endless loop?)"
            ) from None
        finally:
            state.revert(snapshot)


def _apply_overrides(state: StateAPI, overrides: Sequence[StateOverride]) -> None:
    """Change ``state`` (a call's own, never persisted) as ``overrides`` say."""
    for override in overrides:
        address = Address(override.address)
        if override.balance is not None:
            state.set_balance(address, override.balance)
        if override.nonce is not None:
            state.set_nonce(address, override.nonce)
        if override.code is not None:
            state.set_code(address, override.code)
        if override.state is not None:
            state.delete_storage(address)
        for slot, value in override.state or override.state_diff or ():
            state.set_storage(address, slot, value)


def execution_error(computation: ComputationAPI, gas: int) -> EmbeddedChainError:
    """The error a failed call answers: the revert with its data, running out of gas, or another failure."""
    error = computation.error
    if isinstance(error, Revert):
        data = error.args[0] if error.args and isinstance(error.args[0], bytes) else bytes(computation.output)
        return ExecutionReverted(data)
    if isinstance(error, OutOfGas):
        return ExecutionFailed(
            f"gas required exceeds allowance ({gas}): the call ran out of gas; give it more gas (a call gets at most "
            "the block gas limit and the node's call gas cap), or check the code for an unbounded loop"
        )
    return ExecutionFailed(f"execution failed: {type(error).__name__}: {error}")
