"""Reading a certificate back: strict, and an altered or foreign document is named as such."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dataseal.errors import ErrorKind
from dataseal.registry.certificates import Certificate, CertificateError, load_certificate, read_certificate
from dataseal.registry.certificates.model import rights_names
from tests.conftest import Chain
from tests.registry.certificates.conftest import Registered, issue


@pytest.fixture
def data(pyevm: Chain, registered: Registered) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(issue(pyevm, registered).to_text())
    return loaded


def test_a_certificate_reads_back_from_its_file(data: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "cert.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    cert = read_certificate(path)
    assert isinstance(cert, Certificate) and cert.to_json_data() == data
    assert cert.rights_bitmask == 3 and rights_names(5) == ("holding", "operation")


@pytest.mark.parametrize(("change", "message"), [
    ({"kind": "dataseal.manifest"}, "is not a dataseal certificate: its kind is 'dataseal.manifest'"),
    ({"version": 2}, "has certificate version 2; this dataseal reads version 1"),
    ({"contentRoot": "0x12"}, "is invalid: contentRoot: String should match pattern"),
    ({"assetId": "1"}, "is invalid: assetId: Input should be a valid integer"),
    ({"registeredAt": "2026-01-01T08:00:00+08:00"}, "registeredAt: Value error, times are written in UTC"),
    ({"issuedAt": "2026-01-01T08:00:00.5Z"}, "issuedAt: Value error, times are whole seconds"),
    ({"issuedAt": "2026-01-01T08:00:00"}, "issuedAt: Input should have timezone info"),
    ({"rightsType": ["processing", "holding"]}, "rightsType: Value error, list each rights type once"),
    ({"classification": "secret"}, "classification: Input should be 'public', 'general', 'important' or 'core'"),
    ({"extra": 1}, "extra: Extra inputs are not permitted"),
])
def test_an_altered_document_is_refused_naming_the_field(data: dict[str, Any], change: dict[str, Any],
                                                         message: str) -> None:
    with pytest.raises(CertificateError, match=message.replace("(", r"\(").replace(")", r"\)")) as caught:
        load_certificate({**data, **change}, where="cert.json")
    assert str(caught.value).startswith("cert.json ")


def test_files_that_are_not_certificates_are_named(tmp_path: Path) -> None:
    with pytest.raises(CertificateError, match="certificate file .* does not exist") as missing:
        read_certificate(tmp_path / "nope.json")
    assert missing.value.kind is ErrorKind.NOT_FOUND
    broken = tmp_path / "broken.json"
    broken.write_text('{"kind": "dataseal.certificate", ')
    with pytest.raises(CertificateError, match="is not valid JSON"):
        read_certificate(broken)
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]")
    with pytest.raises(CertificateError, match="is not a dataseal certificate: its kind is 'list'"):
        read_certificate(listed)
