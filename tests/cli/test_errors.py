"""dataseal.cli.errors: library errors in the terminal's words."""
from __future__ import annotations

import ast
from pathlib import Path

from dataseal.chain.accounts.keystore import AccountNotFound
from dataseal.chain.errors import NodeUnreachable
from dataseal.cli.errors import HTTP_ONLY_OPTIONS, OPTION_FLAGS, render
from dataseal.errors import InvalidInput

PACKAGE = Path(__file__).resolve().parents[2] / "dataseal"


def test_options_become_the_flags_a_terminal_user_types() -> None:
    error = InvalidInput("no node answers at http://127.0.0.1:1", hint="start it, or check the URL",
                         options=("rpc_url", "not_a_cli_option"))
    assert render(error) == "no node answers at http://127.0.0.1:1: start it, or check the URL [--rpc URL or " \
        "DATASEAL_RPC_URL]"
    assert render(InvalidInput("plain")) == "plain"


def test_an_error_is_one_line_whatever_its_message_holds() -> None:
    assert render(InvalidInput("the node said:\n  ABI Not Found!\n\n  try again")) == \
        "the node said: ABI Not Found! try again"


def test_some_errors_name_the_command_that_helps() -> None:
    unreachable = NodeUnreachable("cannot reach the node at http://127.0.0.1:1 (Connection refused)",
                                  hint="start it, or check the node's URL", options=("rpc_url",))
    assert render(unreachable) == (
        "cannot reach the node at http://127.0.0.1:1 (Connection refused): start it, or check the node's URL "
        "[`dataseal node` starts the embedded chain; --rpc URL or DATASEAL_RPC_URL]"
    )
    assert render(AccountNotFound("no account", hint="create one")).endswith(
        "[`dataseal account list`, `account new` or `account import`]")


def _named_options() -> set[str]:
    """Every option name the library passes as ``options=(...)`` to an error."""
    names: set[str] = set()
    for path in (PACKAGE / "chain").rglob("*.py"):
        names |= _options_in(path)
    for path in (PACKAGE / "registry").rglob("*.py"):
        names |= _options_in(path)
    return names


def _options_in(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.keyword) and node.arg == "options" and isinstance(node.value, (ast.Tuple, ast.List)):
            found |= {item.value for item in node.value.elts if isinstance(item, ast.Constant)}
    return found


def test_every_option_the_library_names_has_a_flag() -> None:
    missing = _named_options() - set(OPTION_FLAGS) - HTTP_ONLY_OPTIONS
    assert not missing, f"add these to dataseal.cli.errors.OPTION_FLAGS: {sorted(missing)}"
