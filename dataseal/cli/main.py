"""The `dataseal` command.

Every print and exit of dataseal lives under cli/: the library raises typed errors
(dataseal.errors.DatasealError and subclasses) and this module renders them as one readable line
(:mod:`dataseal.cli.errors`; a traceback only with --verbose), with a non-zero exit status.

Commands live in cli/commands/<name>.py; each module defines ``register(app)`` and is picked up
here in alphabetical order, so adding a command touches no shared file.
"""
from __future__ import annotations

import importlib
import pkgutil
import sys
import traceback
from collections.abc import Sequence

import typer
from typer.exceptions import TyperException

from dataseal.cli.errors import render
from dataseal.errors import DatasealError

app = typer.Typer(
    name="dataseal",
    help=(
        "Register data assets on an EVM chain, prove what they contain with Merkle proofs, "
        "and audit who may use them and how they were used.\n\n"
        "Start with `dataseal COMMAND --help`. Every command takes --json for scripts."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

_verbose = False


@app.callback()
def _root(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show the full traceback of an error."),
) -> None:
    global _verbose
    _verbose = verbose


def _load_commands() -> None:
    from dataseal.cli import commands

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"dataseal.cli.commands.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


_load_commands()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit status (0 ok, 1 error, 2 usage error, 70 internal error, 130 interrupted)."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        result = app(args=args, prog_name="dataseal", standalone_mode=False)
        if isinstance(result, int) and not isinstance(result, bool):
            # standalone_mode=False hands back typer.Exit(n)'s code instead of raising it.
            return result
    except typer.Exit as exc:
        return int(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        print("dataseal: interrupted", file=sys.stderr)
        return 130
    except TyperException as exc:  # usage errors: typer vendors click's exceptions
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            print(f"dataseal: {exc}", file=sys.stderr)
        return int(getattr(exc, "exit_code", 2))
    except DatasealError as exc:
        if _verbose or "--verbose" in args or "-v" in args:
            traceback.print_exc()
        print(f"dataseal: error: {render(exc)}", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug of ours: still one line, the traceback on request
        if _verbose or "--verbose" in args or "-v" in args:
            traceback.print_exc()
        print(
            f"dataseal: internal error: {type(exc).__name__}: {exc}. This is a bug in dataseal: rerun with "
            "--verbose for the traceback and report it",
            file=sys.stderr,
        )
        return 70
    return 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
