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
    def interface_sha256(self) -> str:
        """The sha256 of the ABI as canonical JSON: what a deployment record compares (the code may be rebuilt
        with other comments or settings; what a client calls must stay)."""
        return interface_sha256(self.abi)


def interface_sha256(abi: list[dict[str, Any]]) -> str:
    """sha256 of ``json.dumps(abi, sort_keys=True, separators=(",", ":"))``."""
    return hashlib.sha256(json.dumps(abi, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


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
