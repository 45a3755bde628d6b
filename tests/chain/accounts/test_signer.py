"""Signing with libsecp256k1: byte-identical to eth-account, and the key never shown."""
from __future__ import annotations

from eth_account import Account
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st
from web3 import Web3

from dataseal.chain.accounts.signer import TransactionSigner
from dataseal.chain.sending.sender import LocalSender


@settings(max_examples=40, deadline=None)
@given(
    nonce=st.integers(0, 2**32),
    gas=st.integers(21_000, 30_000_000),
    fee=st.integers(1, 10**12),
    tip=st.integers(0, 10**10),
    value=st.integers(0, 10**24),
    data=st.binary(max_size=200),
    to=st.one_of(st.none(), st.binary(min_size=20, max_size=20)),
    chain_id=st.integers(1, 2**40),
    legacy=st.booleans(),
)
def test_fast_signing_is_byte_identical_to_eth_account(nonce: int, gas: int, fee: int, tip: int, value: int,
                                                       data: bytes, to: bytes | None, chain_id: int,
                                                       legacy: bool) -> None:
    account = Account.from_key(keccak(text="signing vectors"))
    tx: dict[str, object] = {"nonce": nonce, "gas": gas, "value": value, "data": data, "chainId": chain_id}
    if to is not None:
        tx["to"] = Web3.to_checksum_address(to)
    if legacy:
        tx["gasPrice"] = fee
    else:
        tx["maxFeePerGas"], tx["maxPriorityFeePerGas"] = fee + tip, tip
    assert TransactionSigner(account).sign(dict(tx)) == bytes(account.sign_transaction(tx).raw_transaction)


def test_the_sender_never_shows_its_key() -> None:
    account = Account.create()
    sender = LocalSender(account)
    for text in (repr(sender), str(sender), repr(sender._signer), repr(vars(sender))):
        assert bytes(account.key).hex() not in text.lower()
