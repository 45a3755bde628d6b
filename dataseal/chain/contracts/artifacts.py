"""The compiled contracts shipped with dataseal (``artifacts/*.json`` beside this module, built by
``scripts/build_contracts`` and committed, so that dataseal runs without Node)."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from dataseal.chain.errors import ArtifactError

CONTRACT_NAMES = ("AssetRegistry", "GrantRegistry", "TransactionLedger")


@dataclass(frozen=True)
class Artifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str
    compiler_version: str
    sha256: str  # of the artifact file (it changes with the compiler's metadata hash: information only)

    @property
    def code_sha256(self) -> str:
        """The sha256 of the runtime code without its metadata trailer: what a deployment record compares. A
        rebuild that changes only comments changes the compiler's metadata hash (so the artifact's sha256) and
        nothing else; any change of the code or of the compiler's settings changes this."""
        return code_sha256(self.deployed_bytecode)


def strip_metadata(runtime_code: bytes) -> bytes:
    """``runtime_code`` without the Solidity CBOR metadata trailer: its last two bytes give the trailer's length
    (big-endian), and the trailer plus those two bytes are removed. Raises :class:`ArtifactError` when the code
    is too short for the length it ends with."""
    if len(runtime_code) < 2:
        raise ArtifactError(f"runtime code of {len(runtime_code)} bytes has no metadata trailer",
                            hint="reinstall dataseal (in a checkout: make artifacts)")
    length = int.from_bytes(runtime_code[-2:], "big")
    if length + 2 > len(runtime_code):
        raise ArtifactError(f"runtime code of {len(runtime_code)} bytes ends with a metadata length of {length}",
                            hint="reinstall dataseal (in a checkout: make artifacts)")
    return runtime_code[:-(length + 2)]


def code_sha256(deployed_bytecode: str) -> str:
    """sha256 of the runtime code ``deployed_bytecode`` (hex, with or without 0x) without its metadata trailer."""
    code = bytes.fromhex(deployed_bytecode.removeprefix("0x"))
    return hashlib.sha256(strip_metadata(code)).hexdigest()


@cache
def load_artifact(name: str) -> Artifact:
    """The artifact of contract ``name``; raises :class:`ArtifactError` when it is not shipped."""
    if name not in CONTRACT_NAMES:
        raise ArtifactError(f"unknown contract {name!r}", hint=f"expected one of {', '.join(CONTRACT_NAMES)}")
    try:
        raw = resources.files("dataseal.chain.contracts").joinpath("artifacts", f"{name}.json").read_bytes()
    except FileNotFoundError as exc:
        raise ArtifactError(f"artifact dataseal/chain/contracts/artifacts/{name}.json is missing",
                            hint="reinstall dataseal (in a checkout: make artifacts)") from exc
    try:
        data = json.loads(raw)
        return Artifact(
            name=name,
            abi=data["abi"],
            bytecode=data["bytecode"],
            deployed_bytecode=data["deployedBytecode"],
            compiler_version=data["compiler"]["version"],
            sha256=hashlib.sha256(raw).hexdigest(),
        )
    except (ValueError, KeyError) as exc:
        raise ArtifactError(f"artifact dataseal/chain/contracts/artifacts/{name}.json is unreadable ({exc})",
                            hint="reinstall dataseal (in a checkout: make artifacts)") from exc
