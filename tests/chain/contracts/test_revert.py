"""Revert data → named Solidity errors, whatever shape the provider hands it over in."""
from __future__ import annotations

import pytest
from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address

from dataseal.chain.connection.failures import UNKNOWN_ANSWER, revert_data_from
from dataseal.chain.contracts.records import Registration
from dataseal.chain.contracts.revert import as_chain_error, decode_revert, format_time
from dataseal.chain.errors import ChainError, ContractRevert
from dataseal.errors import ErrorKind
from tests.conftest import Chain


def selector(signature: str) -> bytes:
    return function_signature_to_4byte_selector(signature)


def test_custom_error_with_enum_and_address_arguments() -> None:
    data = selector("AssetNotActive(uint256,uint8)") + encode(["uint256", "uint8"], [7, 3])
    error = decode_revert(data)
    assert error.name == "AssetNotActive"
    assert error.args_by_name == {"assetId": 7, "status": "Suspended"}
    assert str(error) == "AssetNotActive(assetId=7, status=Suspended): asset 7 is Suspended: it must be Active " \
        "(past its notice period, not disputed, suspended or expired)"


def test_hex_string_and_bytes_decode_the_same() -> None:
    data = selector("GrantExpired(uint256,uint64,uint256)") + encode(["uint256", "uint64", "uint256"], [3, 100, 150])
    assert str(decode_revert("0x" + data.hex())) == str(decode_revert(data))
    assert "expired at 100; it is now 150" in str(decode_revert(data))


def test_standard_error_and_panic() -> None:
    assert decode_revert(selector("Error(string)") + encode(["string"], ["nope"])).args_by_name == {"message": "nope"}
    panic = decode_revert(selector("Panic(uint256)") + encode(["uint256"], [0x11]))
    assert (panic.name, panic.args_by_name) == ("Panic", {"code": 0x11})


def test_empty_unknown_and_truncated_data_are_named_not_raised() -> None:
    assert decode_revert(b"").name == "EmptyRevert"
    unknown = decode_revert(bytes.fromhex("deadbeef") + b"\x01" * 32)
    assert unknown.name == "UnknownError"
    assert "not one of dataseal's errors" in str(unknown)
    truncated = decode_revert(selector("UnknownAsset(uint256)") + b"\x01")
    assert truncated.name == "UnknownAsset"
    assert "did not decode" in str(truncated)


def test_revert_data_from_web3_and_eth_tester_shapes() -> None:
    data = selector("UnknownGrant(uint256)") + encode(["uint256"], [9])

    class Web3Style(Exception):
        def __init__(self, payload: object) -> None:
            super().__init__("execution reverted")
            self.data = payload

    assert revert_data_from(Web3Style("0x" + data.hex())) == data
    assert revert_data_from(Web3Style({"data": "0x" + data.hex()})) == data
    assert revert_data_from(Exception(f"execution reverted: {data!r}")) == data
    assert revert_data_from(Exception("connection refused")) is None

    translated = as_chain_error(Exception(f"execution reverted: {data!r}"), "recordUsage")
    assert isinstance(translated, ContractRevert) and translated.args_by_name == {"grantId": 9}
    other = as_chain_error(Exception("connection refused"), "recordUsage")
    assert type(other) is ChainError
    assert other.message == "recordUsage failed: connection refused" and other.hint == UNKNOWN_ANSWER


def test_a_revert_has_the_kind_of_its_error() -> None:
    unknown = decode_revert(function_signature_to_4byte_selector("UnknownAsset(uint256)") + (7).to_bytes(32, "big"))
    assert unknown.kind is ErrorKind.NOT_FOUND and unknown.message == "UnknownAsset(assetId=7)"
    assert "no asset 7 on this chain" in unknown.hint
    foreign = decode_revert(bytes.fromhex("deadbeef"))
    assert foreign.name == "UnknownError" and foreign.kind is ErrorKind.INTERNAL


# ------------------------------------------------------------------------------------ reverts from a node


def h(label: str) -> bytes:
    from eth_utils import keccak

    return keccak(text=label)


ZERO = b"\0" * 32


def test_reverts_are_decoded_with_their_arguments(pyevm: Chain) -> None:
    owner, buyer, user = pyevm.as_(pyevm.owner), pyevm.as_(pyevm.buyer), pyevm.as_(pyevm.user)
    owner.registry.register(Registration(h("root"), h("m"), 1, 0))

    with pytest.raises(ContractRevert) as dup:
        buyer.registry.register(Registration(h("root"), h("m2"), 1, 0))
    assert dup.value.name == "AssetAlreadyRegistered"
    assert dup.value.args_by_name == {"contentRoot": h("root"), "assetId": 1}
    assert str(dup.value).startswith(f"AssetAlreadyRegistered(contentRoot=0x{h('root').hex()}, assetId=1): ")
    assert "keeps priority while its registration stands" in str(dup.value)
    assert dup.value.kind is ErrorKind.CONFLICT

    with pytest.raises(ContractRevert) as unknown:
        pyevm.reader.grants.grant_of(42)
    assert unknown.value.name == "UnknownGrant" and unknown.value.kind is ErrorKind.NOT_FOUND
    with pytest.raises(ContractRevert) as unknown_grant:
        user.ledger.record_usage(42, 1, h("j"))
    assert unknown_grant.value.name == "UnknownGrant"
    assert unknown_grant.value.args_by_name == {"grantId": 42}
    assert "no grant 42 on this chain" in str(unknown_grant.value)

    t = pyevm.now()
    owner.grants.grant(1, pyevm.user.address, h("p"), t, t + 100, 5, ZERO)
    with pytest.raises(ContractRevert) as quota:
        user.ledger.record_usage(1, 6, h("j"))
    assert quota.value.args_by_name == {"grantId": 1, "requested": 6, "remaining": 5}

    with pytest.raises(ContractRevert) as not_owner:
        buyer.registry.cancel(1, ZERO)
    assert not_owner.value.args_by_name == {"assetId": 1, "caller": pyevm.buyer.address, "owner": pyevm.owner.address}


@pytest.mark.hardhat
def test_reverts_from_a_real_node_are_decoded(hardhat: Chain) -> None:
    owner, buyer, user = hardhat.as_(hardhat.owner), hardhat.as_(hardhat.buyer), hardhat.as_(hardhat.user)
    owner.registry.register(Registration(h("dup"), h("m"), 1, 0))
    asset_id = owner.registry.asset_id_of(h("dup"))
    with pytest.raises(ContractRevert) as dup:
        buyer.registry.register(Registration(h("dup"), h("m"), 1, 0))
    assert dup.value.args_by_name == {"contentRoot": h("dup"), "assetId": asset_id}
    with pytest.raises(ContractRevert) as unknown:
        hardhat.reader.registry.asset(10_000)
    assert (unknown.value.name, unknown.value.args_by_name) == ("UnknownAsset", {"assetId": 10_000})
    with pytest.raises(ContractRevert) as no_grant:
        user.ledger.record_usage(999, 1, h("j"))
    assert str(no_grant.value).startswith("UnknownGrant(grantId=999): no grant 999 on this chain")


def test_contracts_that_are_not_wired_to_each_other_say_why() -> None:
    data = selector("WiringMismatch(address,address,address,address)") + encode(
        ["address"] * 4, ["0x" + "11" * 20, "0x" + "22" * 20, "0x" + "33" * 20, "0x" + "44" * 20])
    error = decode_revert(data)
    assert (error.name, error.kind) == ("WiringMismatch", ErrorKind.INTERNAL)
    assert error.hint.startswith("the three contracts are not wired to each other (registry 0x1111111111111111111111"
                                 "111111111111111111, the grants' registry 0x2222222222222222222222222222222222222222")
    assert error.hint.endswith("another transaction from the deployer account was sent in between; deploy again")


def test_the_v2_statuses_and_settlements_are_named() -> None:
    disputed = decode_revert(selector("InvalidStatusTransition(uint256,uint8,uint8)") + encode(
        ["uint256", "uint8", "uint8"], [3, 6, 7]))
    assert disputed.args_by_name == {"assetId": 3, "from": "Disputed", "to": "Expired"}
    assert disputed.hint == "asset 3 is Disputed; it cannot move to Expired"
    settlement = decode_revert(selector("InvalidSettlement(uint8)") + encode(["uint8"], [0]))
    assert settlement.args_by_name == {"settlement": "None"} and settlement.kind is ErrorKind.INVALID_INPUT


def test_errors_of_one_name_in_two_contracts_get_the_hint_of_their_own_arguments() -> None:
    registry = decode_revert(selector("InvalidValidity(uint64,uint256)") + encode(["uint64", "uint256"], [5, 9]))
    assert registry.hint.startswith("the validity end 1970-01-01 00:00:05 UTC (5) must be after 1970-01-01 00:00:09 "
                                    "UTC (9)")
    grants = decode_revert(selector("InvalidValidity(uint64,uint64,uint256)") + encode(["uint64"] * 2 + ["uint256"],
                                                                                     [5, 4, 9]))
    assert grants.hint.startswith("the window 5..4 is empty or already over (it is now 9)")


def test_the_commitment_errors_say_what_to_do() -> None:
    c = b"\x07" * 32
    young = decode_revert(selector("CommitmentTooNew(bytes32,uint256,uint256)") + encode(
        ["bytes32", "uint256", "uint256"], [c, 160, 100]))
    assert young.hint == "the commitment may be revealed from 160 on (it is now 100): wait, then register again"
    old = decode_revert(selector("CommitmentTooOld(bytes32,uint256,uint256)") + encode(
        ["bytes32", "uint256", "uint256"], [c, 90, 100]))
    assert "commit again with a new salt" in old.hint


def test_every_error_of_the_contracts_has_a_hint() -> None:
    from dataseal.chain.contracts.revert import HINTS, _error_table

    missing = sorted({spec.name for spec in _error_table().values()} - {name.split("(")[0] for name in HINTS})
    assert missing == []


def test_a_reason_that_is_not_utf8_is_shown_with_replacement_characters() -> None:
    data = selector("Error(string)") + encode(["bytes"], [b"bad \xff byte"])
    error = decode_revert(data)
    assert error.name == "Error" and error.args_by_name == {"message": "bad \ufffd byte"}


def test_every_error_the_contracts_declare_has_a_hint_and_the_invalid_ones_are_invalid_input() -> None:
    from dataseal.chain.contracts.revert import HINTS, _error_table

    names = {spec.name for spec in _error_table().values()}
    assert names - set(HINTS) == set(), "give these contract errors a hint in dataseal.chain.contracts.revert.HINTS"
    rights = decode_revert(selector("InvalidRightsType(uint8)") + encode(["uint8"], [0]))
    assert rights.kind is ErrorKind.INVALID_INPUT and rights.hint.startswith("rights type 0 is not one: give a bitmask")
    missing = decode_revert(selector("ERC721NonexistentToken(uint256)") + encode(["uint256"], [9]))
    assert missing.kind is ErrorKind.NOT_FOUND
    assert decode_revert(selector("Panic(uint256)") + encode(["uint256"], [0x11])).kind is ErrorKind.INTERNAL


def test_times_in_hints_are_utc_dates_with_their_seconds() -> None:
    assert format_time(1_796_378_688) == "2026-12-04 10:04:48 UTC (1796378688)"
    assert format_time(0) == "1970-01-01 00:00:00 UTC (0)"
    assert format_time(2**64 - 1) == str(2**64 - 1)  # beyond any date: the number alone


def test_a_root_cooling_after_a_cancellation_is_not_said_to_be_reserved_for_the_zero_address() -> None:
    """The old hint read "reserved it for 0x0000…0000 until 1796983568" for a cancelled root."""
    spec = "RootReservedFor(bytes32,address,uint256)"
    root = b"\x07" * 32
    cooling = decode_revert(selector(spec) + encode(["bytes32", "address", "uint256"], [root, "0x" + "00" * 20,
                                                                                          1_796_378_688]))
    assert cooling.hint == ("this content root is cooling after a cancellation: nobody may register it before "
                            "2026-12-04 10:04:48 UTC (1796378688) (a reviewer may still strike the cancelled "
                            "registration off meanwhile)")
    holder = "0x" + "ab" * 20
    reserved = decode_revert(selector(spec) + encode(["bytes32", "address", "uint256"], [root, holder, 1_796_378_688]))
    assert reserved.hint == (f"a reviewer freed this content root and reserved it for {to_checksum_address(holder)} "
                             "until 2026-12-04 10:04:48 UTC (1796378688): only that account may register it before "
                             "then")
    assert reserved.kind is cooling.kind is ErrorKind.CONFLICT
