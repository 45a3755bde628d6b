"""node.json: how other commands find the `dataseal node` that holds a data folder's chain."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from dataseal.chain.node.layout import marker_path, remove_marker, running_node_url, write_marker


def test_a_live_node_is_found_and_its_marker_removed(tmp_path: Path) -> None:
    assert running_node_url(tmp_path) is None
    write_marker(tmp_path, "http://127.0.0.1:8600")
    assert running_node_url(tmp_path) == "http://127.0.0.1:8600"
    remove_marker(tmp_path)
    assert not marker_path(tmp_path).exists()


def test_a_marker_left_by_a_dead_process_is_ignored(tmp_path: Path) -> None:
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(child.stdout)
    write_marker(tmp_path, "http://127.0.0.1:8600", pid=dead_pid)
    assert running_node_url(tmp_path) is None


def test_another_nodes_marker_is_not_removed_and_junk_is_ignored(tmp_path: Path) -> None:
    write_marker(tmp_path, "http://127.0.0.1:8600", pid=os.getppid())
    remove_marker(tmp_path)  # not ours: stays
    assert json.loads(marker_path(tmp_path).read_text())["pid"] == os.getppid()
    marker_path(tmp_path).write_text("{not json")
    assert running_node_url(tmp_path) is None
