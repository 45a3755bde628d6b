"""Errors of sealing: each family's kind, and library messages that name no command-line flag."""

from __future__ import annotations

import pytest

from dataseal.errors import DatasealError, ErrorKind
from dataseal.registry.sealing import (
    EmptyInputError,
    InputChangedError,
    MalformedTableError,
    SealError,
    SecretError,
    SpecialFileError,
    UnreadableInputError,
)
from dataseal.registry.sealing.canonical import CanonicalJsonError


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (SealError, ErrorKind.INVALID_INPUT),
        (EmptyInputError, ErrorKind.INVALID_INPUT),
        (UnreadableInputError, ErrorKind.INVALID_INPUT),
        (InputChangedError, ErrorKind.CONFLICT),
        (SpecialFileError, ErrorKind.INVALID_INPUT),
        (MalformedTableError, ErrorKind.INVALID_INPUT),
        (SecretError, ErrorKind.INVALID_INPUT),
        (CanonicalJsonError, ErrorKind.INVALID_INPUT),
    ],
)
def test_every_family_has_a_kind_and_is_a_dataseal_error(error: type[DatasealError], kind: ErrorKind) -> None:
    assert issubclass(error, DatasealError) and not issubclass(error, ValueError)
    assert error.kind is kind
