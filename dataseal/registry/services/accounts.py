"""Accounts: fund an account from a keystore account (ETH for its gas), so that a grantee made with
``account new`` can sign its own usage records.

    from dataseal.registry.registry import Registry
    from dataseal.registry.services.accounts import fund

    with Registry.open(Settings.load(data_dir="./.dataseal")) as registry:
        done = fund(registry, "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "2eth")
        print(done.tx_hash, done.recipient_balance_wei)

The funder is ``funder`` (an address or keystore file), else the settings' ``account``, else the keystore's only
account, else the account that deployed the data folder's contracts on this chain when the keystore holds it: on
the embedded chain, the operator `dataseal node` created and funded at genesis (its generated password opens it).

A transfer is a plain value transaction: nothing is recorded in the registry database, and a run that dies after
sending it does not know whether it was mined (the hash is in the error): look the balance up before funding again.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from eth_utils import is_checksum_address, to_checksum_address
from web3 import Web3

from dataseal.chain.accounts.keystore import AccountNotFound, KeystoreEntry, KeystoreError
from dataseal.chain.accounts.passwords import PasswordSource
from dataseal.chain.errors import ContractRevert, DeploymentError, InsufficientFunds, Reverted, TransactionRejected
from dataseal.chain.sending.sender import LocalSender
from dataseal.errors import ErrorKind, InvalidInput
from dataseal.registry.context import Context
from dataseal.registry.registry import Registry

WEI_PER_ETHER = 10**18
GWEI = 10**9
#: what :func:`fund` sends when no amount is given: gas for thousands of usage records on a low-fee chain
DEFAULT_FUNDING = "10eth"
MAX_WEI = 2**256 - 1
TRANSFER_GAS = 21_000  # a value transfer to an account without code
ZERO_ADDRESS = "0x" + "00" * 20
_UNITS = {"": WEI_PER_ETHER, "eth": WEI_PER_ETHER, "ether": WEI_PER_ETHER, "gwei": GWEI, "wei": 1}
_AMOUNT = re.compile(r"([0-9]+(?:\.[0-9]*)?(?:e[0-9]+)?)\s*(eth|ether|gwei|wei)?", re.IGNORECASE)
_HEX_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


@dataclass(frozen=True)
class Funding:
    """A transfer :func:`fund` made, and both balances once it was mined (wei)."""

    chain_id: int
    funder: str
    recipient: str
    amount_wei: int
    tx_hash: str
    block_number: int
    gas_used: int
    funder_balance_wei: int
    recipient_balance_wei: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def compute_wei(amount: str | int) -> int:
    """``amount`` in wei: an int is wei; text is a number with a unit, ``eth`` (or ``ether``), ``gwei`` or ``wei``
    (``1eth``, ``0.5 ether``, ``20gwei``, ``1000000wei``); a number without a unit is ether, as `dataseal node
    --fund` reads it. :class:`InvalidInput` unless it is a whole, positive number of wei that fits a balance."""
    if isinstance(amount, bool) or not isinstance(amount, (int, str)):
        raise InvalidInput(f"the amount {amount!r} is not an amount of ETH", hint="give e.g. 1eth, 20gwei or 1000wei",
                           options=("amount",))
    if isinstance(amount, int):
        wei = amount
        shown = f"{amount} wei"
    else:
        found = _AMOUNT.fullmatch(amount.strip())
        if found is None:
            raise InvalidInput(f"the amount {amount!r} is not an amount of ETH",
                               hint="write a number with its unit, e.g. 1eth, 0.5eth, 20gwei or 1000000wei (a number "
                               "alone is ether)", options=("amount",))
        number, unit = found.group(1), (found.group(2) or "").lower()
        try:
            exact = Decimal(number) * _UNITS[unit]
        except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
            raise InvalidInput(f"the amount {amount!r} is not a number", hint="write a number with its unit, e.g. "
                               "1eth", options=("amount",)) from None
        if exact != exact.to_integral_value():
            raise InvalidInput(f"the amount {amount!r} is not a whole number of wei (1 ETH is 10^18 wei)",
                               hint="give fewer decimals", options=("amount",))
        wei = int(exact)
        shown = repr(amount)
    if wei <= 0:
        raise InvalidInput(f"the amount {shown} is nothing to send", hint="give an amount above 0",
                           options=("amount",))
    if wei > MAX_WEI:
        raise InvalidInput(f"the amount {shown} does not fit a balance (at most 2^256-1 wei)",
                           hint="give a smaller amount", options=("amount",))
    return wei


def compute_recipient(address: str) -> str:
    """``address`` checksummed; :class:`InvalidInput` when it is not an address, its mixed case is not the address's
    checksum (a mistyped character), or it is the zero address (whatever is sent there is lost)."""
    text = address.strip() if isinstance(address, str) else address
    if not isinstance(text, str) or not _HEX_ADDRESS.fullmatch(text):
        raise InvalidInput(f"the recipient {address!r} is not an address", hint="give 0x followed by 40 hex digits",
                           options=("recipient",))
    if text != text.lower() and text[2:] != text[2:].upper() and not is_checksum_address(text):
        raise InvalidInput(f"the recipient {text} does not match its checksum (mixed case): a character is mistyped",
                           hint=f"check the address; written all in lower case it is taken as is ({text.lower()})",
                           options=("recipient",))
    checked = to_checksum_address(text)
    if checked == ZERO_ADDRESS:
        raise InvalidInput("the recipient is the zero address: whatever is sent there is lost",
                           hint="give the address of the account to fund", options=("recipient",))
    return checked


def get_funder(context: Context, funder: str | None = None) -> KeystoreEntry:
    """The keystore account that pays: ``funder``, else the settings' account, else the keystore's only one, else the
    deployer of the data folder's contracts on this chain if the keystore holds it (the embedded node's operator)."""
    keystore = context.keystore
    named = funder or context.settings.account
    if named:
        return keystore.find(named)
    entries = keystore.list()
    if len(entries) == 1:
        return entries[0]
    if not entries:
        raise AccountNotFound(f"the keystore {keystore.folder} holds no account to fund from",
                              hint="create or import the account that holds the ETH", options=("data_dir",))
    try:
        deployment = context.recorded_deployment()
    except DeploymentError:  # a damaged record: no operator known
        deployment = None
    if deployment is not None:
        for entry in entries:
            if entry.address == to_checksum_address(deployment.deployer):
                return entry
    raise KeystoreError(
        f"the keystore {keystore.folder} holds {len(entries)} accounts ({', '.join(e.address for e in entries)}) and "
        "none deployed the contracts of this chain", hint="choose the account that pays", options=("funder",),
    )


def fund(
    registry: Registry,
    recipient: str,
    amount: str | int = DEFAULT_FUNDING,
    *,
    funder: str | None = None,
    passwords: Sequence[PasswordSource] = (),
) -> Funding:
    """Send ``amount`` (wei, or text: :func:`compute_wei`) to ``recipient`` from ``funder`` (:func:`get_funder`).

    Refused before anything is sent when the recipient is malformed, the amount is not one, the recipient is the
    funder itself, or the funder's balance does not cover the amount and the most its gas can cost
    (:class:`InsufficientFunds`, with the balance and the amount). ``passwords`` are the front door's own sources
    for the funder's password (see :meth:`Context.unlock`).
    """
    to = compute_recipient(recipient)
    wei = compute_wei(amount)
    context = registry.context
    entry = get_funder(context, funder)
    if entry.address == to:
        raise InvalidInput(f"{to} would fund itself", hint="give another recipient, or fund from another account",
                           options=("recipient", "funder"), kind=ErrorKind.CONFLICT)
    connection = context.connection
    chain_id = connection.chain_id
    balance = connection.balance(entry.address)
    if balance < wei:
        raise InsufficientFunds(
            f"account {entry.address} has {_eth(balance)} on chain {chain_id}, less than the {_eth(wei)} to send",
            hint="send less, or fund from an account that holds more", options=("amount", "funder"),
            balance=balance, needed=wei,
        )
    signing = context.signing_as(entry.address)
    sender = signing.sender(signing.unlock(*passwords))
    w3 = connection.w3
    call = {"to": to, "value": wei}
    action = f"funding {to}"
    # A transfer to an address without code costs exactly the intrinsic gas (and some nodes refuse to estimate
    # for a balance that cannot pay their default gas price); a contract recipient runs code: estimated.
    gas = TRANSFER_GAS if connection.code_size(to) == 0 else _contract_gas(sender, w3, call, action)
    fees = sender.fee_oracle.fees(w3, chain_id)
    most = wei + gas * fees.per_gas_cap()
    if balance < most:
        raise InsufficientFunds(
            f"account {entry.address} has {_eth(balance)} on chain {chain_id}: the {_eth(wei)} to send and up to "
            f"{_eth(most - wei)} of gas need {_eth(most)}",
            hint="send less, or fund from an account that holds more", options=("amount", "funder"),
            balance=balance, needed=most,
        )
    receipt = sender.wait(w3, sender.submit(w3, {**call, "gas": gas}, action=action))
    tx_hash = "0x" + bytes(receipt["transactionHash"]).hex()
    if int(receipt["status"]) != 1:  # a contract recipient whose code changed its mind since the estimate
        raise TransactionRejected(f"{action}: transaction {tx_hash} reverted: the recipient refused the ETH",
                                  hint="fund an account, not a contract", options=("recipient",))
    return Funding(
        chain_id=chain_id, funder=entry.address, recipient=to, amount_wei=wei, tx_hash=tx_hash,
        block_number=int(receipt["blockNumber"]), gas_used=int(receipt["gasUsed"]),
        funder_balance_wei=connection.balance(entry.address), recipient_balance_wei=connection.balance(to),
    )


def _contract_gas(sender: LocalSender, w3: Web3, call: dict[str, Any], action: str) -> int:
    """The gas of a transfer to a contract; :class:`TransactionRejected` when its code refuses the ETH."""
    try:
        return sender.estimate_gas(w3, {"from": sender.address, **call, "data": b""}, action)
    except (ContractRevert, Reverted) as exc:
        raise TransactionRejected(f"{action}: {call['to']} is a contract and refuses the ETH (it reverted: "
                                  f"{exc.message})", hint="fund an account, not a contract",
                                  options=("recipient",)) from None


def _eth(wei: int) -> str:
    """``wei`` for a message: exact wei, and ETH beside them."""
    return f"{wei} wei ({Decimal(wei) / WEI_PER_ETHER:f} ETH)"
