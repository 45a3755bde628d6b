"""The terminal as a password source: asked only when stdin is a terminal, twice for a new key."""
from __future__ import annotations

import io
import sys

import pytest

from dataseal.chain.accounts.keystore import PasswordRequired
from dataseal.cli.prompt import TerminalPrompt


def _no_prompt(_: str) -> str:
    raise AssertionError("must not prompt")


def test_no_prompt_without_a_terminal_and_the_name_says_why() -> None:
    prompt = TerminalPrompt(interactive=False, prompt=_no_prompt)
    assert prompt.read("account 0xabc") is None
    assert prompt.name == "a prompt (stdin is not a terminal)"
    assert TerminalPrompt(interactive=True, prompt=_no_prompt).name == "a prompt"


def test_interactivity_follows_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # not a tty
    assert TerminalPrompt(prompt=_no_prompt).read("x") is None
    monkeypatch.setattr(sys, "stdin", None)  # closed stdin (a daemon)
    assert TerminalPrompt(prompt=_no_prompt).read("x") is None


def test_a_typed_password_and_its_confirmation() -> None:
    asked: list[str] = []

    def typed(question: str) -> str:
        asked.append(question)
        return "typed"

    assert TerminalPrompt(interactive=True, prompt=typed).read("account 0xabc").get_secret_value() == "typed"
    assert asked == ["Password for account 0xabc: "]
    answers = iter(["one", "two"])
    with pytest.raises(PasswordRequired, match="differ"):
        TerminalPrompt(interactive=True, confirm=True, prompt=lambda _: next(answers)).read("x")
    answers = iter(["same", "same"])
    secret = TerminalPrompt(interactive=True, confirm=True, prompt=lambda _: next(answers)).read("x")
    assert secret is not None and secret.get_secret_value() == "same"
    with pytest.raises(PasswordRequired, match="an empty password was entered for x"):
        TerminalPrompt(interactive=True, prompt=lambda _: "").read("x")
