"""Decode revert data into the Solidity custom error that caused it.

A user never sees a hex blob: ``0xda805024…`` becomes
``AssetAlreadyRegistered(contentRoot=0x…, assetId=1): this content was registered first …``.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi.exceptions import DecodingError
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.types import TxReceipt

from dataseal.chain.connection.failures import UNKNOWN_ANSWER, revert_data_from
from dataseal.chain.contracts.artifacts import CONTRACT_NAMES, load_artifact
from dataseal.chain.errors import ChainError, ContractRevert, Reverted
from dataseal.errors import ErrorKind, InvalidInput

STATUS_NAMES = ("None", "Pending", "Active", "Suspended", "Cancelled", "Rejected", "Disputed", "Expired")
GRANT_STATUS_NAMES = ("None", "Active", "Revoked")
SETTLEMENT_NAMES = ("None", "Transfer", "Licence")
#: The AccessControl roles of dataseal's contracts, by their bytes32 id (keccak256 of the name; the admin's is zero).
ROLE_NAMES: dict[bytes, str] = {b"\0" * 32: "DEFAULT_ADMIN_ROLE", keccak(text="REVIEWER_ROLE"): "REVIEWER_ROLE"}
#: Who may give each role, and how.
_ROLE_GIVERS = {
    "REVIEWER_ROLE": "the AssetRegistry's admin (the DEFAULT_ADMIN_ROLE holder) grants it",
    "DEFAULT_ADMIN_ROLE": "nobody grants it: the current admin hands it over in two steps (begin the handover, then "
    "the new admin accepts it after the delay)",
}


def format_time(seconds: int) -> str:
    """A chain timestamp for a reader: ``2026-12-04 10:04:48 UTC (1796378688)`` (the seconds kept for scripts)."""
    try:
        moment = datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):  # beyond what a date can show: the number alone
        return str(seconds)
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC ({seconds})"


def _root_reserved_for(args: Mapping[str, Any]) -> str:
    until = format_time(args["reservedUntil"])
    if int(args["beneficiary"], 16) == 0:
        return (f"this content root is cooling after a cancellation: nobody may register it before {until} "
                "(a reviewer may still strike the cancelled registration off meanwhile)")
    return (f"a reviewer freed this content root and reserved it for {args['beneficiary']} until {until}: only that "
            "account may register it before then")


def role_name(role: bytes) -> str:
    """A role's name (``REVIEWER_ROLE``) from its bytes32 id, or the id as 0x-hex when it is none of dataseal's."""
    return ROLE_NAMES.get(bytes(role), "0x" + bytes(role).hex())


def _missing_role(args: Mapping[str, Any]) -> str:
    role = str(args["neededRole"])
    giver = _ROLE_GIVERS.get(role, "only an account holding that role's admin role grants it")
    return f"{args['account']} does not hold {role}, which this needs; {giver}. Or send from an account that holds it"


def _registry_validity(args: Mapping[str, Any]) -> str:
    return (f"the validity end {format_time(args['validUntil'])} must be after {format_time(args['mustExceed'])} "
            "(now, or the end of the notice period in review mode, at registration; the current end, or now if later, "
            "at renewal): give a later time")


Hint = str | Callable[[Mapping[str, Any]], str]

# What to do about each error a user can cause. Keys are error names (or, where two contracts declare
# errors of one name with different arguments, "Name(arg,...)"); values are format strings over the
# error's arguments, or functions of them where the text depends on their values (dates, zero addresses).
HINTS: dict[str, Hint] = {
    "AssetAlreadyRegistered": "this content is held by asset {assetId}, registered first; it keeps priority while "
    "its registration stands. If it is yours, register a new version of it; if it is not, object during its "
    "notice period or ask a reviewer to reject it, which frees the root",
    "UnknownAsset": "no asset {assetId} on this chain: check the id and the chain you are connected to",
    "UnknownGrant": "no grant {grantId} on this chain: check the id and the chain you are connected to",
    "UnknownBatch": "no batch {batchId} on this chain: check the id and the chain you are connected to",
    "NotAssetOwner": "only the current owner {owner} may do this for asset {assetId}; you are {caller}",
    "AssetNotActive": "asset {assetId} is {status}: it must be Active (past its notice period, not disputed, "
    "suspended or expired)",
    "ParentNotActive": "the parent asset {parentId} is {status}: versions and derived assets need an Active parent",
    "InvalidStatusTransition": "asset {assetId} is {from}; it cannot move to {to}",
    "AssetNotTransferable": "asset {assetId} is {status}: transfers are frozen until it is Active again",
    "GrantNotYetValid": "grant {grantId} starts at {validFrom}; it is now {timestamp}",
    "GrantExpired": "grant {grantId} expired at {expiredAt}; it is now {timestamp}. Ask the owner for a new grant",
    "GrantNotActive": "grant {grantId} is {status}: ask the asset owner for a new grant",
    "QuotaExceeded": "grant {grantId} has {remaining} units left, {requested} were asked for",
    "NotGranteeOrOperator": "only grantee {grantee} or an operator it gave the USAGE power may record usage under "
    "grant {grantId}; you are {caller}",
    "NotSellerOrOperator": "only seller {seller} or an operator it gave the TRADE power may record this trade; you "
    "are {caller}",
    "SellerNotOwner": "seller {seller} does not own asset {assetId} (owner: {owner})",
    "SignatureExpired": "the signature's deadline {deadline} has passed (now {timestamp}): sign again",
    "InvalidSignature": "the signature was not made by {expected} for this request, chain and contract "
    "(or its nonce was already used): sign again",
    "CommitmentNotFound": "this deployment requires a commitment before registering, and none was made for this "
    "content root, owner and salt: commit first, wait the minimum age, then register with the same salt",
    "CommitmentTooNew": "the commitment may be revealed from {revealFrom} on (it is now {timestamp}): wait, then "
    "register again",
    "CommitmentTooOld": "the commitment expired at {expiredAt} (it is now {timestamp}): commit again with a new salt",
    "CommitmentExists": "the same commitment is already waiting to be revealed (until {expiresAt}): register with its "
    "salt, or commit with another salt",
    "CommitmentsNotRequired": "this deployment takes no commitments: register directly",
    "RootReservedFor": _root_reserved_for,
    "InvalidReservation": "a root is reserved only when a dispute is upheld or a registration rejected: give no "
    "beneficiary ({reserveFor}) when dismissing",
    "NotApprovedForTransfer": "{operator} may sell licences for {seller} but not asset {assetId} itself: the owner "
    "must also approve it for that token (ERC-721 approve or setApprovalForAll)",
    "NotInNotice": "asset {assetId} is {status}: objections are taken during its notice period only (it ended at "
    "{noticeEndsAt})",
    "InvalidEvidence": "an objection needs the keccak256 of its evidence, not zero",
    "NoExpiry": "asset {assetId} carries no expiry: there is nothing to renew",
    "InvalidConfig": "the deployment constants are inconsistent: give a commitment minimum age of at least 1 s below "
    "its maximum, or neither, and a non-zero ledger address",
    "InvalidSettlement": "a sale settles as Transfer (no licence terms) or Licence (with terms), not {settlement}",
    "WiringMismatch": "the three contracts are not wired to each other (registry {assets}, the grants' registry "
    "{grantsAssets}, the grants' ledger {grantsLedger}, the registry's ledger {assetsLedger}): another transaction "
    "from the deployer account was sent in between; deploy again",
    "AccessControlEnforcedDefaultAdminRules": "the admin role moves only by the two-step handover: begin it, then "
    "the new admin accepts after the delay",
    "AccessControlEnforcedDefaultAdminDelay": "the admin handover or delay change may complete at {schedule}, not "
    "before",
    "AccessControlInvalidDefaultAdmin": "{defaultAdmin} cannot take the admin role: at deployment the admin must not "
    "be the zero address, and in a handover only the pending admin may accept it",
    "SafeCastOverflowedUintDowncast": "a value ({value}) does not fit in {bits} bits",
    "InvalidContentRoot": "a content root of zero is no root: give the Merkle root of the data",
    "InvalidManifestHash": "a manifest hash of zero is no hash: give the keccak256 of the manifest",
    "InvalidRightsType": "rights type {rightsType} is not one: give a bitmask of 1 holding, 2 processing-use and "
    "4 product operation (1 to 7)",
    "InvalidClassification": "classification {classification} is not one: give 0 public to 3 core",
    "InvalidBatchCount": "a batch of {count} records cannot be anchored: give its member count, 1 or more and at "
    "most the contract's limit",
    "InvalidGrantee": "grant to an account, not the zero address",
    "InvalidValidity": "the window {validFrom}..{expiresAt} is empty or already over (it is now {timestamp}): give an "
    "expiry after the start and in the future",
    "InvalidValidity(validUntil,mustExceed)": _registry_validity,
    "InvalidQuota": "a grant of 0 units allows nothing: give a quota of 1 or more",
    "InvalidUnits": "record 1 unit or more of use under grant {grantId}",
    "InvalidReceiptCount": "a batch holds 1 or more receipts of at least one unit each ({count} receipts, {units} "
    "units given): give the number of receipts its root commits, and units no fewer than that",
    "InvalidRecordHash": "a hash of zero proves nothing: give the keccak256 of the receipt or settlement",
    "InvalidBuyer": "the buyer {buyer} cannot be the zero address or the seller {seller}: name who bought it",
    "InvalidOperator": "{operator} cannot be an operator with powers {powers} (the zero address, yourself, or "
    "powers beyond USAGE=1 | TRADE=2): name another account",
    "IdSpaceExhausted": "this contract has used all its ids (the last was {lastId}): deploy a new set of contracts",
    "NotLedger": "only the ledger {ledger} may do this (consume grants, settle sales); you are {caller}",
    "AccessControlUnauthorizedAccount": _missing_role,
    "AccessControlBadConfirmation": "renouncing a role must be confirmed with your own address",
    "ERC721NonexistentToken": "no asset {tokenId} on this chain: check the id and the chain you are connected to",
    "ERC721IncorrectOwner": "asset {tokenId} belongs to {owner}, not {sender}",
    "ERC721InsufficientApproval": "{operator} is not approved to move asset {tokenId}: ask its owner to approve it",
    "ERC721InvalidApprover": "{approver} cannot approve for this asset",
    "ERC721InvalidOperator": "{operator} cannot be an operator for transfers",
    "ERC721InvalidOwner": "{owner} cannot own an asset (the zero address)",
    "ERC721InvalidReceiver": "{receiver} cannot receive asset tokens: send it to an account, or a contract that "
    "accepts ERC-721 tokens",
    "ERC721InvalidSender": "{sender} cannot send this asset",
    "InvalidShortString": "the contract's name is malformed: this is a bug in dataseal's contracts, report it",
    "StringTooLong": "a string is too long for the contract: this is a bug in dataseal's contracts, report it",
    "Error": "the message is the contract's own reason",
    "Panic": "the contract stopped on an internal check (code {code}): this is a bug in dataseal's contracts, "
    "report it",
}

# The kind of each error a user can cause (the rest are conflicts: the state refuses the request).
KINDS: dict[str, ErrorKind] = {
    **{name: ErrorKind.INVALID_INPUT for name in (
        "InvalidContentRoot", "InvalidManifestHash", "InvalidRightsType", "InvalidClassification", "InvalidBatchCount",
        "InvalidGrantee", "InvalidValidity", "InvalidQuota", "InvalidUnits", "InvalidReceiptCount",
        "InvalidRecordHash", "InvalidBuyer", "InvalidOperator", "InvalidEvidence", "InvalidSettlement",
        "InvalidReservation",
        "InvalidConfig", "ERC721InvalidApprover", "ERC721InvalidOperator",
        "ERC721InvalidOwner", "ERC721InvalidReceiver", "ERC721InvalidSender",
    )},
    "ERC721NonexistentToken": ErrorKind.NOT_FOUND,
    **{name: ErrorKind.INTERNAL for name in ("Panic", "InvalidShortString", "StringTooLong", "IdSpaceExhausted",
                                             "WiringMismatch")},
    "UnknownAsset": ErrorKind.NOT_FOUND,
    "UnknownGrant": ErrorKind.NOT_FOUND,
    "UnknownBatch": ErrorKind.NOT_FOUND,
    "SignatureExpired": ErrorKind.INVALID_INPUT,
    "InvalidSignature": ErrorKind.INVALID_INPUT,
    "UnknownError": ErrorKind.INTERNAL,
}


@dataclass(frozen=True)
class _ErrorAbi:
    name: str
    names: tuple[str, ...]
    types: tuple[str, ...]
    internal_types: tuple[str, ...]


@cache
def _error_table() -> dict[bytes, _ErrorAbi]:
    table: dict[bytes, _ErrorAbi] = {}
    for contract in CONTRACT_NAMES:
        for item in load_artifact(contract).abi:
            if item.get("type") != "error":
                continue
            types = tuple(canonical_type(i) for i in item["inputs"])
            selector = function_signature_to_4byte_selector(f"{item['name']}({','.join(types)})")
            table[selector] = _ErrorAbi(
                name=item["name"],
                names=tuple(i["name"] for i in item["inputs"]),
                types=types,
                internal_types=tuple(i.get("internalType", "") for i in item["inputs"]),
            )
    for name, arg, abi_type in (("Error", "message", "string"), ("Panic", "code", "uint256")):
        table[function_signature_to_4byte_selector(f"{name}({abi_type})")] = _ErrorAbi(
            name, (arg,), (abi_type,), (abi_type,)
        )
    return table


def canonical_type(item: dict[str, Any]) -> str:
    """The canonical ABI type of an ABI input ``item`` (tuples spelled out), as selectors and topics hash it."""
    if item["type"].startswith("tuple"):
        inner = ",".join(canonical_type(c) for c in item["components"])
        return f"({inner}){item['type'][5:]}"
    return str(item["type"])


def _present(value: Any, abi_type: str, internal_type: str, name: str = "") -> Any:
    if name == "neededRole" and isinstance(value, bytes):
        return role_name(value)
    if internal_type.endswith("IAssetRegistry.Status") and isinstance(value, int) and value < len(STATUS_NAMES):
        return STATUS_NAMES[value]
    if internal_type.endswith("GrantStatus") and isinstance(value, int) and value < len(GRANT_STATUS_NAMES):
        return GRANT_STATUS_NAMES[value]
    if internal_type.endswith(".Settlement") and isinstance(value, int) and value < len(SETTLEMENT_NAMES):
        return SETTLEMENT_NAMES[value]
    if abi_type == "address":
        return to_checksum_address(value)
    return value


def decode_revert(data: bytes | str) -> ContractRevert:
    """The :class:`ContractRevert` for raw revert ``data`` (bytes or 0x-hex)."""
    if isinstance(data, str):
        try:
            raw = bytes.fromhex(data[2:] if data.startswith("0x") else data)
        except ValueError:
            raise InvalidInput(f"revert data {data[:80]!r} is not hex", hint="give the bytes the node returned, "
                               "as 0x followed by hex digits") from None
    else:
        raw = bytes(data)
    if len(raw) == 0:
        return ContractRevert("EmptyRevert", {}, hint="the call reverted without a reason (out of gas, or "
                              "not a dataseal contract at that address?)", raw=raw)
    spec = _error_table().get(raw[:4])
    if spec is None:
        return ContractRevert("UnknownError", {"data": raw}, hint="the revert is not one of dataseal's errors: "
                              "is the address a dataseal contract of this version?", raw=raw,
                              kind=KINDS["UnknownError"])
    try:
        try:
            values = abi_decode(list(spec.types), raw[4:])
        except UnicodeDecodeError:  # a string argument that is not UTF-8: shown with U+FFFD, as geth's JSON does
            as_bytes = abi_decode(["bytes" if t == "string" else t for t in spec.types], raw[4:])
            values = tuple(v.decode("utf-8", "replace") if t == "string" else v
                           for v, t in zip(as_bytes, spec.types, strict=True))
    except DecodingError:
        return ContractRevert(spec.name, {"data": raw[4:]}, hint="its arguments did not decode", raw=raw)
    args = {
        name: _present(value, abi_type, internal, name)
        for name, value, abi_type, internal in zip(spec.names, values, spec.types, spec.internal_types, strict=True)
    }
    template = HINTS.get(f"{spec.name}({','.join(spec.names)})") or HINTS.get(spec.name, "")
    hint = _hint(template, args)
    return ContractRevert(spec.name, args, hint=hint, raw=raw, kind=KINDS.get(spec.name))


def _hint(template: Hint, args: Mapping[str, Any]) -> str:
    """``template`` filled with the decoded ``args`` (left as it is where they do not fit it)."""
    if callable(template):
        try:
            return template(args)
        except (KeyError, TypeError, ValueError):
            return ""
    try:
        return template.format(**args) if template else ""
    except (KeyError, IndexError):
        return template


def as_chain_error(exc: BaseException, action: str) -> ChainError:
    """Translate an exception raised while doing ``action`` into a dataseal error (a revert decoded)."""
    if isinstance(exc, Reverted):
        return decode_revert(exc.data)
    data = revert_data_from(exc)
    if data is not None:
        return decode_revert(data)
    return ChainError(f"{action} failed: {' '.join(str(exc).split())}", hint=UNKNOWN_ANSWER)


def replay_failure(w3: Web3, tx: Mapping[str, Any], sender: str, receipt: TxReceipt, action: str) -> ChainError:
    """The error of ``tx``, mined from ``sender`` and failed (status 0) as ``receipt`` says.

    A receipt carries no revert reason, so the transaction is re-run as a call on the state before its
    block, then after it (another transaction of the block may have made it fail): a revert gives the
    decoded :class:`ContractRevert`. Else it ran out of gas, or the reason is lost.
    """
    block, gas_used = int(receipt["blockNumber"]), int(receipt["gasUsed"])
    request: Any = {"from": sender, **{k: tx[k] for k in ("to", "data", "value") if k in tx}}
    for at in (block - 1, block):
        try:
            w3.eth.call(request, at)
        except Exception as exc:
            data = revert_data_from(exc)
            if data is not None:
                return decode_revert(data)
    tx_hash = HexBytes(receipt["transactionHash"]).to_0x_hex()
    gas_limit = int(tx["gas"]) if "gas" in tx else None
    if gas_limit is not None and gas_used >= gas_limit:
        return ChainError(
            f"{action} ran out of gas: transaction {tx_hash} used all {gas_limit} gas in block {block}",
            hint="send it again with gas estimated for this very call (the plain, waiting methods do)",
            kind=ErrorKind.CONFLICT,
        )
    used = f"gas used {gas_used}" if gas_limit is None else f"gas used {gas_used} of {gas_limit}"
    return ChainError(
        f"{action} failed: transaction {tx_hash} reverted in block {block} ({used}) and the reason could not be "
        "recovered by replaying it", hint="look the transaction up in a block explorer or the node's trace, then send "
        "it again if it should go through", kind=ErrorKind.CONFLICT,
    )
