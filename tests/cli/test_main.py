"""Bad input at the front door: one line saying what was wrong and what to do, a non-zero exit,
no traceback — and never a secret of the RPC URL in the message."""
from __future__ import annotations

import errno
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import Any

import pytest

from tests.cli.conftest import Cli, one_line


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["status", "--chain-id", "0"], {}, "invalid setting: chain_id: Input should be greater than 0 (got 0)"),
        (["status"], {"DATASEAL_RECEIPT_TIMEOUT": "abc"}, "invalid setting: receipt_timeout:"),
        (["status", "--rpc", "http://[::1"], {}, "invalid RPC URL '<an invalid URL>' (Invalid IPv6 URL)"),
        (["status", "--rpc", "ftp://127.0.0.1:1"], {}, "unsupported RPC URL"),
    ],
)
def test_invalid_settings_and_urls(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, args: list[str], env: dict[str, str], expected: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code, out, err = cli(*args)
    assert code == 1 and out == ""
    assert expected in one_line(err)


def test_a_password_is_never_echoed_in_a_settings_error(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATASEAL_CONFIRMATIONS", "-3")
    monkeypatch.setenv("DATASEAL_PASSWORD", "hunter2-secret")
    code, _, err = cli("status")
    assert code == 1 and "confirmations" in one_line(err) and "hunter2-secret" not in err


def test_an_unexpected_exception_is_one_line_with_exit_70(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    import dataseal.cli.commands.status as status_module

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(status_module.Context, "open", boom)
    code, _, err = cli("status")
    assert code == 70
    assert one_line(err).startswith("dataseal: internal error: RuntimeError: kaboom. This is a bug in dataseal")


class _NotAnRpcServer(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802
        self.send_response(501)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def test_rpc_url_secrets_never_reach_a_message(cli: Cli) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotAnRpcServer)
    thread = Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        secret_url = f"http://user:hunter2@127.0.0.1:{port}/v3/0123456789abcdef0123456789?apikey=TOPSECRET"
        code, _, err = cli("status", "--rpc", secret_url)
        line = one_line(err)
        assert code == 1 and "501" in line
        assert "hunter2" not in err and "TOPSECRET" not in err and "0123456789abcdef0123456789" not in err
    finally:
        server.shutdown()
        server.server_close()
    # refused connection: the same
    code, _, err = cli("status", "--rpc", "http://user:hunter2@127.0.0.1:1/?key=TOPSECRET")
    assert code == 1 and "hunter2" not in err and "TOPSECRET" not in err


def test_the_cli_starts_without_loading_py_evm() -> None:
    code = (
        "import sys, dataseal.cli.main; "
        "print('eth' in sys.modules or 'dataseal.chain.embedded.chain' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["prove", "x", "--chunk", "two"], "dataseal: error: Invalid value for '--chunk': Input should be a valid "
         "integer, unable to parse string as an integer [see `dataseal prove --help`]"),
        (["prove", "x", "--chunk", "1" * 5000], "dataseal: error: Invalid value for '--chunk': Unable to parse input "
         "string as an integer, exceeded maximum size [see `dataseal prove --help`]"),
        (["check"], "dataseal: error: Missing argument 'FILE'. [see `dataseal check --help`]"),
        (["check", "--nope", "x"], "dataseal: error: No such option: --nope [see `dataseal check --help`]"),
        (["seall"], "dataseal: error: No such command 'seall'. Did you mean 'seal'? [see `dataseal --help`]"),
    ],
)
def test_a_usage_error_is_one_line_with_exit_2(cli: Cli, args: list[str], line: str) -> None:
    code, out, err = cli(*args, data_dir=False)
    assert (code, out) == (2, "")
    assert one_line(err) == line


def test_no_command_still_shows_the_help(cli: Cli) -> None:
    code, _, err = cli(data_dir=False)
    assert code == 2 and "Commands:" in err and "seal" in err


def test_an_os_error_of_the_environment_is_one_line_with_exit_1(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    import dataseal.cli.commands.status as status_module

    def full_disk(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", "/data/x")

    monkeypatch.setattr(status_module.Context, "open", full_disk)
    code, _, err = cli("status")
    assert code == 1
    assert one_line(err) == (
        "dataseal: error: No space left on device (/data/x): check the disk (free space, permissions) and the paths "
        "given, and try again"
    )


def test_ctrl_c_is_a_clean_exit_130(cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from dataseal.chain import files

    def interrupted_read(fd: int, size: int) -> bytes:
        raise KeyboardInterrupt  # as Ctrl-C between two blocks of a long read

    document = tmp_path / "doc.json"
    document.write_text("{}")
    monkeypatch.setattr(files.os, "read", interrupted_read)
    code, out, err = cli("check", str(document), data_dir=False)
    assert (code, out) == (130, "")
    assert one_line(err) == "dataseal: interrupted"


def _dataseal(*args: str, stdout: Any = subprocess.PIPE) -> subprocess.CompletedProcess[bytes]:
    """`dataseal ...` in its own process (what happens to its stdout and at its exit is the point)."""
    return subprocess.run([sys.executable, "-m", "dataseal.cli.main", *args], stdout=stdout, stderr=subprocess.PIPE,
                          check=False)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_stdout_on_a_full_disk_is_one_line_with_exit_1(tmp_path: Path) -> None:
    data = tmp_path / "data.bin"
    data.write_bytes(b"x" * 5000)
    with open("/dev/full", "wb") as full:
        result = _dataseal("seal", str(data), "--chunk-size", "1KiB", stdout=full)
        assert result.returncode == 1, result.stderr
        assert result.stderr.decode() == (
            "dataseal: error: No space left on device: check the disk (free space, permissions) and the paths given, "
            "and try again\n"
        )
        result = _dataseal("prove", str(data), "--chunk", "1", stdout=full)
        assert result.returncode == 1 and result.stderr.count(b"\n") == 1 and b"No space left" in result.stderr
