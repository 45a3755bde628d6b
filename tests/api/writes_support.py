"""What the write tests share: a world whose app has an operator API key and a started worker, sealing data
locally as a client would, signed requests, and waiting for an operation's end (an event, never the wall clock)."""
from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from eth_account.signers.local import LocalAccount

from dataseal.api.app import create_app
from dataseal.api.security import create_api_key, sign_request
from dataseal.chain.accounts.eip712 import sign_register
from dataseal.registry.db import Database
from dataseal.registry.manifest import Manifest, ManifestMetadata, build_manifest
from dataseal.registry.merkle import core
from dataseal.registry.registry import Registry
from dataseal.registry.sealing import SealOptions
from dataseal.registry.sealing.seal import compute_tree, tree_info
from dataseal.registry.services.manifest_writes import register_domain
from dataseal.registry.services.writer import Clock
from tests.api.conftest import ApiClient, open_registry
from tests.conftest import Chain

NOW = 1_900_000_000  # the API's clock for signed requests (app.state.clock)


@dataclass
class Sealed:
    manifest: Manifest
    leaves: list[bytes]
    proofs: list[list[bytes]]


@dataclass
class WriteWorld:
    chain: Chain
    registry: Registry
    app: Any
    client: ApiClient
    api_key: str
    folder: Path
    counter: Iterator[int]

    def seal(self, name: str, data: bytes, title: str) -> Sealed:
        path = self.folder / name
        path.write_bytes(data)
        with compute_tree(path, SealOptions(chunk_size=512)) as computed:
            manifest = build_manifest(ManifestMetadata(title=title, rights_type=("holding", "processing")),
                                      computed.content, tree_info(computed))
            nodes = computed.tree.nodes  # type: ignore[attr-defined]
            count = len(computed.tree)
            leaves = [core.node_at(nodes, core.leaf_tree_index(count, i)) for i in range(count)]
            proofs = [computed.tree.get_proof(i) for i in range(count)]
        return Sealed(manifest, leaves, proofs)

    def operator(self, url: str, body: Any, **headers: str) -> httpx.Response:
        return self.client.request("POST", url, content=json.dumps(body),
                                   headers={"Authorization": f"Bearer {self.api_key}",
                                            "Content-Type": "application/json", **headers})

    def signed(self, url: str, body: Any, account: LocalAccount, **headers: str) -> httpx.Response:
        raw = json.dumps(body).encode()
        signature = sign_request(account, "POST", url, raw, next(self.counter), chain_id=self.chain.w3.eth.chain_id,
                                 host="localhost")
        return self.client.request("POST", url, content=raw,
                                   headers={"Content-Type": "application/json", **signature, **headers})

    def wait(self, answer: httpx.Response) -> dict[str, Any]:
        assert answer.status_code == 202, answer.text
        operation = answer.json()
        assert operation["poll"] == f"/operations/{operation['operation']}"
        self.app.state.operations.wait(operation["operation"])
        polled = self.client.get(operation["poll"])
        assert polled.status_code == 200, polled.text
        result: dict[str, Any] = polled.json()
        return result


def make_world(chain: Chain, folder: Path, clock: Clock | None = None) -> tuple[WriteWorld, Database]:
    data_dir = folder / "data"
    data_dir.mkdir()
    database = Database.open(f"sqlite:///{data_dir / 'registry.sqlite'}")
    registry = open_registry(chain, data_dir, chain.owner.address, database)  # the operator account: chain.owner
    app = create_app(registry, write_clock=clock)
    app.state.clock = lambda: NOW
    key = create_api_key(registry.db, "ops")
    return WriteWorld(chain, registry, app, ApiClient(app), key, folder, itertools.count(NOW - 200)), database


def started_world(chain: Chain, folder: Path, clock: Clock | None = None) -> Iterator[WriteWorld]:
    """A world with its worker started (stopped, and its registry closed, after)."""
    world, database = make_world(chain, folder, clock)
    world.app.state.operations.start()
    try:
        yield world
    finally:
        world.app.state.operations.stop()
        world.registry._database = None
        world.registry.close()
        database.close()


def relay_body(world: WriteWorld, sealed: Sealed, owner: LocalAccount, *, deadline: int | None = None,
               classification: int = 1, signer: LocalAccount | None = None) -> dict[str, Any]:
    deadline = world.chain.now() + 3600 if deadline is None else deadline
    nonce = world.chain.reader.registry.nonce_of(owner.address)
    signature = sign_register((signer or owner).key, register_domain(world.registry), owner=owner.address,
                              content_root=bytes.fromhex(sealed.manifest.tree.root[2:]),
                              manifest_hash=sealed.manifest.hash, rights_type=sealed.manifest.rights_bitmask,
                              classification=classification, parent_id=0, nonce=nonce, deadline=deadline)
    return {"manifest": sealed.manifest.to_json_data(), "classification": classification, "owner": owner.address,
            "deadline": deadline, "signature": "0x" + signature.hex()}
