"""The terminal as a password source: the password typed at a prompt (the library never prompts)."""
from __future__ import annotations

import getpass
import sys
from collections.abc import Callable

from pydantic import SecretStr

from dataseal.chain.accounts.keystore import PasswordRequired


class TerminalPrompt:
    """The password typed at a prompt, when stdin is a terminal (twice with ``confirm``, for new keys)."""

    def __init__(self, *, confirm: bool = False, prompt: Callable[[str], str] = getpass.getpass,
                 interactive: bool | None = None) -> None:
        self.confirm = confirm
        self._prompt = prompt
        self.interactive = _stdin_is_tty() if interactive is None else interactive

    @property
    def name(self) -> str:
        return "a prompt" if self.interactive else "a prompt (stdin is not a terminal)"

    def read(self, purpose: str) -> SecretStr | None:
        if not self.interactive:
            return None
        first = self._prompt(f"Password for {purpose}: ")
        if not first:
            raise PasswordRequired(f"an empty password was entered for {purpose}", hint="enter a password")
        if self.confirm and self._prompt("Repeat the password: ") != first:
            raise PasswordRequired("the two passwords differ", hint="run the command again")
        return SecretStr(first)


def _stdin_is_tty() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):  # closed stdin
        return False
