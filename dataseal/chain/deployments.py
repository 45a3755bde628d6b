"""The deployment record: where dataseal's contracts live, per chain.

One JSON file, ``<data_dir>/deployments.json``, maps a chain id (as a string) to
:meth:`chain.contracts.Deployment.to_json`. Writes take a lock beside the file and replace it
atomically (temp file + ``os.replace``), so a reader never sees half a file and two writers for
different chains do not lose each other's entry.
"""
from __future__ import annotations

import json
from pathlib import Path

from dataseal.chain.contracts import Deployment
from dataseal.chain.errors import DeploymentError
from dataseal.chain.files import write_atomic
from dataseal.chain.locking import file_lock

DEPLOYMENTS_FILENAME = "deployments.json"


class DeploymentRecordError(DeploymentError):
    """The deployment record file cannot be read or written."""


def deployments_path(data_dir: Path | str) -> Path:
    """The deployment record of the data folder ``data_dir``."""
    return Path(data_dir) / DEPLOYMENTS_FILENAME


def load_deployments(data_dir: Path | str) -> dict[int, Deployment]:
    """Every recorded deployment by chain id; empty when the file does not exist yet."""
    return _read(deployments_path(data_dir))


def get_deployment(data_dir: Path | str, chain_id: int) -> Deployment | None:
    """The deployment recorded for ``chain_id``, or None."""
    return load_deployments(data_dir).get(int(chain_id))


def save_deployment(data_dir: Path | str, deployment: Deployment) -> Path:
    """Record ``deployment`` under its chain id (replacing an older one for that chain); the file's path."""
    path = deployments_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(path.with_name(path.name + ".lock")):
        records = _read(path)
        records[deployment.chain_id] = deployment
        _write(path, records)
    return path


def remove_deployment(data_dir: Path | str, chain_id: int) -> bool:
    """Forget the deployment of ``chain_id``; whether there was one."""
    path = deployments_path(data_dir)
    if not path.exists():
        return False
    with file_lock(path.with_name(path.name + ".lock")):
        records = _read(path)
        if records.pop(int(chain_id), None) is None:
            return False
        _write(path, records)
    return True


def _read(path: Path) -> dict[int, Deployment]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise DeploymentRecordError(f"cannot read the deployment record {path}: {exc}") from None
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise DeploymentRecordError(
            f"the deployment record {path} is not valid JSON ({exc}): restore it from a backup, or delete it "
            "and run `dataseal deploy` again"
        ) from None
    if not isinstance(data, dict):
        raise DeploymentRecordError(
            f"the deployment record {path} must be a JSON object of chain id -> deployment, got "
            f"{type(data).__name__}: restore it or delete it and deploy again"
        )
    records: dict[int, Deployment] = {}
    for key, value in data.items():
        if not (key.isascii() and key.isdecimal()):
            raise DeploymentRecordError(f"the deployment record {path} has key {key!r}; expected a chain id")
        try:
            deployment = Deployment.from_json(value)
        except DeploymentError as exc:
            raise DeploymentRecordError(f"{path}, chain {key}: {exc}") from None
        if deployment.chain_id != int(key):
            raise DeploymentRecordError(
                f"{path}: the entry under chain {key} says chain_id {deployment.chain_id}; the file was edited by "
                "hand: fix the key or the chain_id"
            )
        records[int(key)] = deployment
    return records


def _write(path: Path, records: dict[int, Deployment]) -> None:
    text = json.dumps({str(k): records[k].to_json() for k in sorted(records)}, indent=2, sort_keys=True) + "\n"
    write_atomic(path, text.encode("utf-8"))
