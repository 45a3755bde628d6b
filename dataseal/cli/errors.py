"""How the CLI renders an error of the library: one line, in the terminal's words.

A library error (:class:`dataseal.errors.DatasealError`) says what failed and what to do in words
that suit any front door, and names the settings or parameters that would change the outcome
(``options``). The CLI spells those the way a terminal user types them: ``rpc_url`` becomes
``--rpc URL or DATASEAL_RPC_URL``. An option this table does not know is left out (the API has
its own table), and ``tests/cli/test_errors.py`` checks that every option the library names is here.
"""
from __future__ import annotations

from dataseal.errors import DatasealError

#: option name (a Settings field, or a parameter of a library call) -> how a terminal user gives it
OPTION_FLAGS: dict[str, str] = {
    # settings (dataseal.registry.settings.Settings)
    "data_dir": "--data-dir or DATASEAL_DATA_DIR",
    "rpc_url": "--rpc URL or DATASEAL_RPC_URL",
    "account": "--account",
    "password": "--password-file FILE or DATASEAL_PASSWORD",
    "chain_id": "--chain-id or DATASEAL_CHAIN_ID",
    "confirmations": "--confirmations or DATASEAL_CONFIRMATIONS",
    "receipt_timeout": "DATASEAL_RECEIPT_TIMEOUT",
    # dataseal node
    "port": "--port",
    # sealing and proving
    "rows": "--rows",
    "table_format": "--format csv|jsonl|parquet",
    "chunk_size": "--chunk-size",
    "symlinks": "--symlinks refuse|skip|follow",
    "special": "--skip-special",
    "salt_secret": "--salt-secret FILE",
    "chunk": "--chunk N",
    "row": "--row N",
    "file": "--file RELATIVE/PATH",
    "manifest": "--manifest FILE",
    "root": "--root HEX",
    "out_dir": "-o/--out DIR",
}


def render(error: DatasealError) -> str:
    """``error`` as the one line the CLI prints after ``dataseal: error: ``."""
    text = str(error)
    flags = [OPTION_FLAGS[name] for name in error.options if name in OPTION_FLAGS]
    if flags:
        text += f" [{'; '.join(flags)}]"
    return text
