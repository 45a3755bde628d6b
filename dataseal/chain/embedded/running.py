"""Where a running `dataseal node` can be reached: <data_dir>/node.json.

The embedded chain's file is locked by the node that has it open, so other commands of the same
data folder (`dataseal status`, `dataseal deploy`, ...) talk to that node over its JSON-RPC URL
instead. The node writes this marker once it serves and removes it when it stops; a marker
left by a killed node is ignored because its pid is gone.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from dataseal.chain.files import write_atomic

MARKER_NAME = "node.json"


def marker_path(data_dir: Path | str) -> Path:
    return Path(data_dir) / MARKER_NAME


def write_marker(data_dir: Path | str, url: str, pid: int | None = None) -> Path:
    """Record that the node of ``data_dir`` serves at ``url`` (atomically)."""
    path = marker_path(data_dir)
    write_atomic(path, (json.dumps({"url": url, "pid": os.getpid() if pid is None else pid}) + "\n").encode())
    return path


def remove_marker(data_dir: Path | str, pid: int | None = None) -> None:
    """Remove the marker if it is ours (another node may have replaced it)."""
    path = marker_path(data_dir)
    try:
        if json.loads(path.read_text()).get("pid") == (os.getpid() if pid is None else pid):
            path.unlink()
    except (OSError, ValueError, AttributeError):
        pass


def running_node_url(data_dir: Path | str) -> str | None:
    """The URL of the node serving ``data_dir`` if one is running, else None."""
    try:
        marker = json.loads(marker_path(data_dir).read_text())
        url, pid = marker["url"], int(marker["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(url, str) or not _alive(pid):
        return None
    return url


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
