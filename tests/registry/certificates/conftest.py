"""Assets registered on the py-evm chain with real sealed manifests, and a fixed issue time."""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dataseal.chain.contracts.logs import LogReader
from dataseal.chain.contracts.records import AssetRecord, Registration
from dataseal.chain.sending.sender import LocalSender
from dataseal.registry.certificates import Certificate, compute_certificate
from dataseal.registry.manifest import Manifest, ManifestMetadata
from dataseal.registry.sealing.seal import seal
from tests.conftest import Chain

#: The issue time of the certificates in these tests (the issuer's clock, injected).
ISSUED = datetime(2030, 6, 1, 8, 30, tzinfo=UTC)
TITLE = "2024年深圳市公共交通客流统计数据集"
_counter = itertools.count()


def seal_manifest(folder: Path, title: str = TITLE, *, rights: tuple[str, ...] = ("holding", "processing"),
                  licence: str | None = "CC-BY-4.0", source: str | None = "深圳市交通运输局") -> Manifest:
    """A real manifest of a fresh small table (a new content root each time)."""
    n = next(_counter)
    data = folder / f"table-{n}.csv"
    data.write_text(f"station,riders\nA,{n}\nB,{n + 1}\n", encoding="utf-8")
    metadata = ManifestMetadata(title=title, rights_type=rights, licence=licence, source=source)  # type: ignore[arg-type]
    return seal(data, metadata=metadata, out_dir=folder / f"table-{n}.dataseal").manifest


@dataclass
class Registered:
    manifest: Manifest
    record: AssetRecord

    @property
    def asset_id(self) -> int:
        return self.record.asset_id


def register(chain: Chain, manifest: Manifest, *, sender: LocalSender | None = None, classification: int = 1,
             valid_until: int = 0, parent_id: int = 0, version: bool = False) -> Registered:
    """Register ``manifest``'s root and hash as ``sender`` (the owner by default)."""
    registry = chain.as_(sender or chain.owner).registry
    registration = Registration(bytes.fromhex(manifest.tree.root[2:]), manifest.hash, manifest.rights_bitmask,
                                classification, parent_id, valid_until)
    record = registry.register_version(registration) if version else registry.register(registration)
    return Registered(manifest, record)


def issue(chain: Chain, registered: Registered, *, manifest: Manifest | None | bool = True, **options: object
          ) -> Certificate:
    """The certificate of ``registered`` as of the latest block (with its manifest unless told otherwise)."""
    given = registered.manifest if manifest is True else (manifest or None)
    return compute_certificate(chain.reader, LogReader(chain.w3), chain.deployment, registered.asset_id,
                               given, now=ISSUED, **options)  # type: ignore[arg-type]


@pytest.fixture
def registered(pyevm: Chain, tmp_path: Path) -> Registered:
    """An asset registered on ``pyevm`` with a Chinese title, classification "general", no expiry."""
    return register(pyevm, seal_manifest(tmp_path))
