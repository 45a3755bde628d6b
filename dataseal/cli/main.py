"""The `dataseal` command.

Every print and exit of dataseal lives under cli/: the library raises typed errors
(dataseal.errors.DatasealError and subclasses) and this module renders them as one readable line
(:mod:`dataseal.cli.errors`; a traceback only with --verbose), with a non-zero exit status.

Commands live in cli/commands/<name>.py; each module defines ``register(app)`` and is picked up
here in alphabetical order, so adding a command touches no shared file.
"""
from __future__ import annotations

import errno
import importlib
import io
import os
import pkgutil
import sys
import traceback
from collections.abc import Sequence

import typer
from typer._click.exceptions import NoArgsIsHelpError, UsageError  # typer vendors click's exceptions
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
#: The exit status of an interrupted command (128 + SIGINT, as shells report it).
INTERRUPTED = 130


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
    verbose = "--verbose" in args or "-v" in args
    try:
        result = app(args=args, prog_name="dataseal", standalone_mode=False)
        sys.stdout.flush()  # a full disk or a closed pipe on stdout shows here, not at the interpreter's exit
        if isinstance(result, int) and not isinstance(result, bool):
            # standalone_mode=False hands back typer.Exit(n)'s code instead of raising it; typer makes Ctrl-C
            # Exit(130), and no command of ours exits 130 otherwise.
            if result == INTERRUPTED:
                print("dataseal: interrupted", file=sys.stderr)
            return result
    except typer.Exit as exc:
        return int(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        print("dataseal: interrupted", file=sys.stderr)
        return INTERRUPTED
    except UsageError as exc:
        if isinstance(exc, NoArgsIsHelpError):
            exc.show()  # `dataseal` alone, or a group without its command: the help
        else:
            command = exc.ctx.command_path if exc.ctx is not None else "dataseal"
            print(f"dataseal: error: {_one_line(exc.format_message())} [see `{command} --help`]", file=sys.stderr)
        return int(exc.exit_code)
    except TyperException as exc:  # click's other exceptions
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            print(f"dataseal: {exc}", file=sys.stderr)
        return int(getattr(exc, "exit_code", 2))
    except DatasealError as exc:
        if _verbose or verbose:
            traceback.print_exc()
        print(f"dataseal: error: {render(exc)}", file=sys.stderr)
        return 1
    except OSError as exc:
        # The environment refused (a full disk, a closed pipe, a path under /proc): not a bug, one line.
        if _verbose or verbose:
            traceback.print_exc()
        _drop_unwritable_stdout()
        print(f"dataseal: error: {_describe_os_error(exc)}", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug of ours: still one line, the traceback on request
        if _verbose or verbose:
            traceback.print_exc()
        print(
            f"dataseal: internal error: {type(exc).__name__}: {exc}. This is a bug in dataseal: rerun with "
            "--verbose for the traceback and report it",
            file=sys.stderr,
        )
        return 70
    return 0


def _one_line(text: str) -> str:
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def _describe_os_error(exc: OSError) -> str:
    """An OSError no command turned into a DatasealError, as what failed and what to check."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    if exc.errno == errno.EPIPE:
        return "the output was closed before everything was written (Broken pipe): read the whole output"
    where = f" ({exc.filename})" if exc.filename else ""
    return f"{reason}{where}: check the disk (free space, permissions) and the paths given, and try again"


def _drop_unwritable_stdout() -> None:
    """When stdout itself failed (a full disk, a closed pipe), point it at /dev/null, so that what is
    still buffered for it is not tried again, and failed again, as the interpreter exits."""
    try:
        sys.stdout.flush()
        return
    except OSError:
        pass
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, io.UnsupportedOperation):
        pass


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
