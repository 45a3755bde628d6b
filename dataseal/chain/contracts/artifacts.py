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
    sha256: str  # of the artifact file, recorded in deployment records


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
