"""Admission (dataseal.chain.embedded.admission): the pool's refusals, with geth's reasons, replacements,
and the journal that keeps accepted transactions across a close or a crash."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import rlp
from eth_account import Account
from eth_keys.constants import SECPK1_N
from eth_utils import keccak
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dataseal.chain.embedded.chain import EmbeddedChain, chain_file
from dataseal.chain.embedded.defaults import DEFAULT_CHAIN_ID
from dataseal.chain.embedded.errors import INVALID_PARAMS, TransactionRefused
from dataseal.chain.embedded.settings import Genesis, Mining
from dataseal.chain.embedded.store import ChainStore
from tests.chain.embedded.conftest import Funded
from tests.chain.embedded.helpers import BOB, SMALL_GAS_LIMIT, addr, new_key, open_chain, outpriced, sign


def test_nonces_too_low_too_high_and_repeats_are_refused(chain: EmbeddedChain, keys: Funded) -> None:
    raw = sign(keys.alice, chain.chain_id, 0, to=BOB)
    chain.send_raw_transaction(raw)
    with pytest.raises(TransactionRefused, match="already known: transaction 0x"):
        chain.send_raw_transaction(raw)
    with pytest.raises(TransactionRefused, match="nonce too high: address .* tx: 5, next: 1.*send the missing"):
        chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 5, to=BOB))
    chain.mine()
    with pytest.raises(TransactionRefused, match="nonce too low: address .* tx: 0 state: 1"):
        chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 0, to=BOB, value=2))
    assert chain.pending_nonce(addr(keys.alice.address)) == 1


def test_a_replacement_must_pay_ten_percent_more(chain: EmbeddedChain, keys: Funded) -> None:
    first = chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 0, to=BOB, value=1, max_fee=10**10))
    with pytest.raises(TransactionRefused, match="replacement transaction underpriced: .* by 10%"):
        chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 0, to=BOB, value=2, max_fee=10**10 + 1))
    second = chain.send_raw_transaction(
        sign(keys.alice, chain.chain_id, 0, to=BOB, value=2, max_fee=11 * 10**9, priority=11 * 10**8)
    )
    follow = chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 1, to=BOB, value=4))
    assert chain.mine().transactions == (second, follow)
    assert chain.get_transaction(first) is None
    assert chain.get_balance(addr(BOB)) == 6


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda c, k: sign(k, 1, 0), "invalid chain id: the transaction is signed for chain 1, this chain is"),
        (lambda c, k: bytes(k.sign_transaction({"nonce": 0, "gasPrice": 10**10, "gas": 21_000, "to": BOB,
                                                 "value": 1}).raw_transaction),
         "only replay-protected \\(EIP-155\\) transactions are accepted"),
        (lambda c, k: sign(k, c.chain_id, 0, gas=20_000), "intrinsic gas too low: gas 20000, minimum needed 21000"),
        (lambda c, k: sign(k, c.chain_id, 0, gas=20_000, legacy=True),
         "intrinsic gas too low: gas 20000, minimum needed 21000"),
        (lambda c, k: sign(k, c.chain_id, 0, gas=22_600, data=b"\1" * 100),
         "insufficient gas for floor data gas cost: gas 22600, minimum needed 25000"),
        (lambda c, k: sign(k, c.chain_id, 0, gas=31_000_000), "exceeds block gas limit: .* 31000000 gas, blocks hold"),
        (lambda c, k: sign(k, c.chain_id, 0, max_fee=1, priority=1), "max fee per gas less than block base fee"),
        (lambda c, k: sign(new_key(), c.chain_id, 0),
         "insufficient funds for gas \\* price \\+ value: address 0x.* have 0"),
        (lambda c, k: sign(k, c.chain_id, 0, data=b"\1" * 140_000, gas=3_000_000), "oversized data: .* at most 131072"),
        (lambda c, k: b"\x03" + rlp.encode([1, 2, 3]), "blob transactions \\(type 3\\) are not supported"),
    ],
    ids=["chain-id", "unprotected", "intrinsic-gas", "legacy-intrinsic-gas", "calldata-floor", "gas-limit", "base-fee",
         "funds", "oversized", "blob"],
)
def test_bad_transactions_are_refused_with_the_reason(chain: EmbeddedChain, keys: Funded, make, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TransactionRefused, match=message):
        chain.send_raw_transaction(make(chain, keys.alice))
    assert chain.pending_count == 0


def test_bytes_that_are_no_transaction_are_invalid_params(chain: EmbeddedChain) -> None:
    with pytest.raises(TransactionRefused, match="not a signed transaction .*raw bytes that signing produced") as info:
        chain.send_raw_transaction(b"\x02\xff\x00")
    assert info.value.code == INVALID_PARAMS


def test_a_tampered_signature_is_refused(chain: EmbeddedChain, keys: Funded) -> None:
    raw = sign(keys.alice, chain.chain_id, 0, legacy=True)
    fields = rlp.decode(raw)
    fields[-1] = b""  # s = 0
    with pytest.raises(TransactionRefused, match="invalid (transaction|signature)"):
        chain.send_raw_transaction(rlp.encode(fields))


def test_a_new_transaction_below_the_base_fee_is_still_refused(
    small_blocks: tuple[EmbeddedChain, Any, Any]
) -> None:
    chain, _, bob = small_blocks
    fee = chain.next_base_fee()
    with pytest.raises(TransactionRefused) as info:
        chain.send_raw_transaction(sign(bob, chain.chain_id, 0, max_fee=fee - 1, priority=1))
    assert "max fee per gas less than block base fee" in info.value.message
    assert f"baseFee: {fee}" in info.value.message and "raise maxFeePerGas" in info.value.message
    assert chain.get_transaction(keccak(sign(bob, chain.chain_id, 0, max_fee=fee - 1, priority=1))) is None


def test_accepted_transactions_survive_a_close_without_mining(tmp_path: Path, keys: Funded) -> None:
    chain = open_chain(tmp_path, keys.addresses)
    sent = [chain.send_raw_transaction(sign(keys.alice, chain.chain_id, n, to=BOB)) for n in range(3)]
    chain.close(flush=False)
    chain = EmbeddedChain.open(chain_file(tmp_path), mining=Mining("manual"))
    try:
        assert chain.pending_count == 3
        assert chain.get_transaction(sent[0]) is not None
        assert chain.mine().transactions == tuple(sent)
    finally:
        chain.close()
    store = ChainStore(chain_file(tmp_path))
    try:
        assert store.journal_items() == []
    finally:
        store.close()


def test_a_journalled_transaction_that_no_longer_fits_is_dropped_on_reopening(tmp_path: Path, keys: Funded) -> None:
    chain = open_chain(tmp_path, keys.addresses)
    chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 0, to=BOB))
    chain.mine()
    chain.close()
    stale = sign(keys.alice, DEFAULT_CHAIN_ID, 0, to=BOB, value=99)  # its nonce was used meanwhile
    store = ChainStore(chain_file(tmp_path))
    store.journal_add(keccak(stale), stale)
    store.close()
    chain = EmbeddedChain.open(chain_file(tmp_path), mining=Mining("manual"))
    try:
        assert chain.pending_count == 0
        assert "nonce too low" in (chain.dropped_reason(keccak(stale)) or "")
    finally:
        chain.close()


def test_a_waiting_transaction_survives_a_reopening(tmp_path: Path, keys: Funded) -> None:
    chain = open_chain(tmp_path / "data", [keys.alice.address, keys.bob.address], gas_limit=SMALL_GAS_LIMIT)
    first, second = outpriced(chain, keys.alice, keys.bob)
    chain.close(flush=False)
    chain = open_chain(tmp_path / "data", gas_limit=SMALL_GAS_LIMIT)
    try:
        # accepted once, it is not refused for the base fee when the journal is replayed
        assert chain.pending_count == 2 and chain.dropped_reason(first) is None
        mined = chain.mine()
        while not mined.transactions:
            mined = chain.mine()
        assert mined.transactions == (first, second)
    finally:
        chain.close(flush=False)


# ------------------------------------------------------------------------ geth's txpool rules, one by one
# Each of these was accepted before, then mined against the rules or dropped by the miner.


def test_a_tip_above_the_fee_cap_is_refused(chain: EmbeddedChain, keys: Funded) -> None:
    raw = sign(keys.alice, chain.chain_id, 0, max_fee=10**10, priority=10**10 + 1)
    with pytest.raises(TransactionRefused, match="max priority fee per gas higher than max fee per gas: "
                                                "maxPriorityFeePerGas: 10000000001, maxFeePerGas: 10000000000"):
        chain.send_raw_transaction(raw)
    assert chain.pending_count == 0 and chain.mine().transactions == ()


def test_init_code_above_the_eip3860_limit_is_refused(chain: EmbeddedChain, keys: Funded) -> None:
    raw = sign(keys.alice, chain.chain_id, 0, to=None, value=0, data=b"\0" * 60_000, gas=3_000_000)
    with pytest.raises(TransactionRefused, match="max initcode size exceeded: code size 60000, limit 49152") as info:
        chain.send_raw_transaction(raw)
    assert info.value.code == -32000 and chain.pending_count == 0
    # at the limit, it is taken (and mined: the code deploys nothing and succeeds)
    tx = chain.send_raw_transaction(
        sign(keys.alice, chain.chain_id, 0, to=None, value=0, data=b"\0" * 49_152, gas=3_000_000)
    )
    assert chain.mine().transactions == (tx,)


def test_the_init_code_word_cost_counts_in_the_intrinsic_gas(chain: EmbeddedChain, keys: Funded) -> None:
    data = b"\1" * 1_000  # 21000 + 32000 (create) + 16000 (calldata) + 2 * 32 words (EIP-3860) = 69064
    with pytest.raises(TransactionRefused, match="intrinsic gas too low: gas 69063, minimum needed 69064"):
        chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 0, to=None, value=0, data=data, gas=69_063))
    tx = chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 0, to=None, value=0, data=data, gas=69_064))
    assert chain.mine().transactions == (tx,)


def test_a_high_s_signature_is_refused(chain: EmbeddedChain, keys: Funded) -> None:
    raw = sign(keys.alice, chain.chain_id, 0, to=BOB)
    fields = rlp.decode(raw[1:])
    s = int.from_bytes(fields[-1], "big")
    fields[-1] = (SECPK1_N - s).to_bytes(32, "big")  # the same signature's twin: same sender, other hash
    fields[-3] = b"" if fields[-3] == b"\x01" else b"\x01"
    with pytest.raises(TransactionRefused, match="invalid sender: invalid transaction v, r, s values"):
        chain.send_raw_transaction(raw[:1] + rlp.encode(fields))
    assert chain.pending_count == 0


def test_an_unknown_transaction_type_is_refused(chain: EmbeddedChain, keys: Funded) -> None:
    raw = sign(keys.alice, chain.chain_id, 0, to=BOB)
    with pytest.raises(TransactionRefused, match="not a signed transaction: transaction type not supported: type 5") \
            as info:
        chain.send_raw_transaction(b"\x05" + raw[1:])
    assert info.value.code == INVALID_PARAMS


def test_access_list_transactions_are_taken(chain: EmbeddedChain, keys: Funded) -> None:
    tx = {"chainId": chain.chain_id, "nonce": 0, "gas": 21_000, "gasPrice": 10**10, "to": BOB, "value": 1,
          "accessList": [], "type": 1}
    sent = chain.send_raw_transaction(bytes(keys.alice.sign_transaction(tx).raw_transaction))
    assert chain.mine().transactions == (sent,)


def test_the_balance_must_cover_the_senders_pending_transactions_too(chain: EmbeddedChain, keys: Funded) -> None:
    poor = new_key()
    chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 0, to=poor.address, value=10**18))
    chain.mine()
    first = chain.send_raw_transaction(sign(poor, chain.chain_id, 0, to=BOB, value=6 * 10**17))
    cost = 21_000 * 10**10 + 6 * 10**17
    with pytest.raises(TransactionRefused) as info:
        chain.send_raw_transaction(sign(poor, chain.chain_id, 1, to=BOB, value=6 * 10**17))
    assert info.value.message.startswith(
        f"insufficient funds for gas * price + value: balance {10**18}, queued cost {cost}, tx cost {cost}, "
        f"overshot {2 * cost - 10**18}"
    )
    # a replacement is weighed without the transaction it replaces; what fits is taken and mined
    second = chain.send_raw_transaction(sign(poor, chain.chain_id, 0, to=BOB, value=7 * 10**17, max_fee=2 * 10**10,
                                             priority=2 * 10**9))
    third = chain.send_raw_transaction(sign(poor, chain.chain_id, 1, to=BOB, value=2 * 10**17))
    assert chain.mine().transactions == (second, third)
    assert chain.get_transaction(first) is None and chain.pending_count == 0
    assert chain.dropped_reason(third) is None


def test_each_hash_answered_is_mined(chain: EmbeddedChain, keys: Funded) -> None:
    """A mixed burst: every transaction accepted is in the next block, none is dropped."""
    sent, poor = [], new_key()
    chain.send_raw_transaction(sign(keys.alice, chain.chain_id, 0, to=poor.address, value=10**16))
    chain.mine()
    attempts = [
        sign(poor, chain.chain_id, 0, value=5 * 10**15),
        sign(poor, chain.chain_id, 1, value=5 * 10**15),  # over the balance with the first
        sign(keys.alice, chain.chain_id, 1, max_fee=10**10, priority=2 * 10**10),
        sign(keys.alice, chain.chain_id, 1, to=None, value=0, data=b"\0" * 50_000, gas=2_000_000),
        sign(keys.alice, chain.chain_id, 1, to=None, value=0, data=b"\1" * 100, gas=53_000 + 1_600 + 7),
        sign(keys.bob, chain.chain_id, 0),
    ]
    for raw in attempts:
        try:
            sent.append(chain.send_raw_transaction(raw))
        except TransactionRefused:
            pass
    mined = chain.mine()
    assert set(mined.transactions) == set(sent) and len(sent) == 2
    assert all(chain.dropped_reason(h) is None for h in sent)


# ------------------------------------------------------------------------ every hash answered is mined

PROPERTY_KEYS = [Account.from_key("0x" + f"{n:02x}" * 32) for n in (0x21, 0x22)]  # funded with 1 ether each


@pytest.fixture(scope="module")
def property_chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedChain]:
    chain = EmbeddedChain.open(chain_file(tmp_path_factory.mktemp("admission")), mining=Mining("manual"),
                               genesis=Genesis(alloc={k.address: 10**18 for k in PROPERTY_KEYS}))
    try:
        yield chain
    finally:
        chain.close(flush=False)


@st.composite
def attempts(draw: st.DrawFn) -> dict[str, Any]:
    """How to make a transaction near and across the admission rules; :func:`signed_attempt` makes it
    against the chain as it is then (its next nonce, its base fee)."""
    def one(*values: Any) -> Any:
        return draw(st.sampled_from(values))

    return {
        "key": one(0, 1),
        "data": one(b"", b"\1" * 40, b"\0" * 64, b"\0" * 49_152, b"\1" * 49_153),
        "create": one(False, False, True),
        "chain": one("this", "this", "this", "other"),
        "nonce": one(0, 0, 0, 0, 1, -1),
        "gas": one(*[("needed", n) for n in (0, 0, 0, 1, 50_000, -1)],
                   *[("gas", n) for n in (0, 30_000_000, 30_000_001)]),
        "value": one(0, 1, 10**15, 10**17, 3 * 10**17, 2 * 10**18),
        "cap": one(*[("fees", k) for k in (1, 2, 3, 0)], *[("wei", n) for n in (10**9, 10**11, 0)]),
        "plus": one(10**9, 0, 1),
        "tip": one(*[("of cap", f) for f in (0.5, 1, 0)], *[("wei", n) for n in (10**9, 2 * 10**11)]),
        "type": one(2, 2, 0, 1),
    }


def signed_attempt(chain: EmbeddedChain, plan: dict[str, Any]) -> bytes:
    key, data = PROPERTY_KEYS[plan["key"]], plan["data"]
    intrinsic = 21_000 + sum(4 if b == 0 else 16 for b in data)
    if plan["create"]:
        intrinsic += 32_000 + 2 * ((len(data) + 31) // 32)
    needed = max(intrinsic, 21_000 + 10 * (len(data) + 3 * sum(1 for b in data if b)))  # (EIP-7623 floor)
    unit, amount = plan["gas"]
    fee = chain.next_base_fee()
    cap = fee * plan["cap"][1] + plan["plus"] if plan["cap"][0] == "fees" else plan["cap"][1]
    tip = int(cap * plan["tip"][1]) if plan["tip"][0] == "of cap" else plan["tip"][1]
    tx: dict[str, Any] = {
        "chainId": chain.chain_id if plan["chain"] == "this" else 1,
        "nonce": max(0, chain.pending_nonce(addr(key.address)) + plan["nonce"]),
        "gas": max(0, needed + amount) if unit == "needed" else amount,
        "value": plan["value"], "data": data,
    }
    if not plan["create"]:
        tx["to"] = BOB
    if plan["type"] == 2:
        tx.update(type=2, maxFeePerGas=cap, maxPriorityFeePerGas=tip)
    else:
        tx.update(gasPrice=cap)
        if plan["type"] == 1:
            tx.update(type=1, accessList=[])
    return bytes(key.sign_transaction(tx).raw_transaction)


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.data())
def test_every_transaction_accepted_is_mined(property_chain: EmbeddedChain, data: st.DataObject) -> None:
    """Bursts of transactions near and across the rules: each one accepted is in the next block."""
    chain, accepted = property_chain, []
    for _ in range(data.draw(st.integers(1, 6), label="burst")):
        raw = signed_attempt(chain, data.draw(attempts(), label="transaction"))
        try:
            accepted.append(chain.send_raw_transaction(raw))
        except TransactionRefused:
            pass
    mined = chain.mine()
    assert mined.dropped == () and set(mined.transactions) == set(accepted)
    assert chain.pending_count == 0
    for tx_hash in mined.transactions:  # and what the rules forbid is not among them
        record = chain.get_transaction(tx_hash)
        assert record is not None and record.tx.max_priority_fee_per_gas <= record.tx.max_fee_per_gas
