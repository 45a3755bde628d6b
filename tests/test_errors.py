"""dataseal.errors: what every error carries, and how a front door reads it."""
from __future__ import annotations

import pytest

from dataseal.chain.errors import ChainError, ContractRevert, ContractsNotDeployed, NodeUnreachable
from dataseal.errors import Conflict, DatasealError, ErrorKind, InternalError, InvalidInput, NotFound, Unavailable


def test_the_message_and_the_hint_make_the_text() -> None:
    error = InvalidInput("chunk size '12 parsecs' is not a size", hint="give bytes (1048576) or 64KiB, 1MiB",
                         options=("chunk_size",))
    assert str(error) == "chunk size '12 parsecs' is not a size: give bytes (1048576) or 64KiB, 1MiB"
    assert error.message == "chunk size '12 parsecs' is not a size"
    assert error.options == ("chunk_size",)
    assert error.to_json() == {
        "error": "InvalidInput", "kind": "invalid_input", "message": "chunk size '12 parsecs' is not a size",
        "hint": "give bytes (1048576) or 64KiB, 1MiB", "options": ["chunk_size"],
    }
    assert str(DatasealError("no hint")) == "no hint"


@pytest.mark.parametrize(("error", "kind"), [
    (InvalidInput("x"), ErrorKind.INVALID_INPUT),
    (NotFound("x"), ErrorKind.NOT_FOUND),
    (Conflict("x"), ErrorKind.CONFLICT),
    (Unavailable("x"), ErrorKind.UNAVAILABLE),
    (InternalError("x"), ErrorKind.INTERNAL),
    (NodeUnreachable("x"), ErrorKind.UNAVAILABLE),
    (ContractsNotDeployed("x"), ErrorKind.NOT_FOUND),
])
def test_every_family_has_a_kind(error: DatasealError, kind: ErrorKind) -> None:
    assert error.kind is kind


def test_an_instance_may_narrow_its_kind_without_touching_its_class() -> None:
    error = ChainError("the node answered garbage", kind=ErrorKind.INTERNAL)
    assert error.kind is ErrorKind.INTERNAL
    assert ChainError("x").kind is ErrorKind.UNAVAILABLE


def test_a_revert_keeps_its_solidity_form_as_the_message_and_its_advice_as_the_hint() -> None:
    error = ContractRevert("UnknownAsset", {"assetId": 7}, hint="no asset 7 on this chain", kind=ErrorKind.NOT_FOUND)
    assert error.message == "UnknownAsset(assetId=7)"
    assert str(error) == "UnknownAsset(assetId=7): no asset 7 on this chain"
    assert error.kind is ErrorKind.NOT_FOUND


@pytest.mark.parametrize("area", ["chain", "registry"])
def test_every_error_the_library_builds_has_a_hint(area: str) -> None:
    """A message says what failed; the hint says what to do (what to check, what to give instead)."""
    from tests.support.error_scan import calls_without_hint

    missing = calls_without_hint(area)
    assert missing == [], (
        f"these errors of dataseal/{area} have no hint=: split each message into what failed (message=) and what "
        f"to do about it (hint=, in words that suit any front door): {missing}"
    )


@pytest.mark.parametrize("area", ["chain", "registry"])
def test_no_library_message_names_a_flag_a_command_or_a_variable(area: str) -> None:
    """The library names options (``options=("rpc_url",)``); the front doors spell them."""
    from tests.support.error_scan import strings_naming_the_cli

    assert strings_naming_the_cli(area) == []
