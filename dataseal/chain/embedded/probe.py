"""Is there a whole chain in this file? (Without loading py-evm or taking the chain's lock.)"""
from __future__ import annotations

import sqlite3
from pathlib import Path


def has_chain(file: Path) -> bool:
    """True when ``file`` holds a chain whose genesis was committed (its chain id is recorded in
    the same transaction). A file left by a first start that died before that is not a chain."""
    if not file.is_file():
        return False
    try:
        with sqlite3.connect(f"file:{file}?mode=ro", uri=True, timeout=5) as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'chain_id'").fetchone()
    except sqlite3.Error:
        return False
    return row is not None
