"""`dataseal seal | prove | check` through cli.main.main (exit codes, stdout, one-line errors)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from dataseal.cli.main import main
from dataseal.registry import checks
from dataseal.registry.evidence import ChainRecord, DirectRegistration, build_bundle
from dataseal.registry.manifest import MAX_DOCUMENT_BYTES
from dataseal.registry.sealing.options import MAX_SECRET_BYTES, SealOptions
from dataseal.registry.sealing.seal import compute_tree, prove, seal
from tests.cli.conftest import one_line
from tests.support.devices import null_device


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *args: str | Path) -> dict[str, Any]:
    code, out, err = run(capsys, *args, "--json")
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


@pytest.fixture
def table(tmp_path: Path) -> Path:
    path = tmp_path / "people.csv"
    path.write_text("id,name\n1,alice\n2,bob\n3,carol\n")
    return path


def test_seal_prints_root_leaves_and_manifest_hash(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = tmp_path / "data.bin"
    data.write_bytes(b"x" * 5000)
    code, out, err = run(
        capsys, "seal", data, "--chunk-size", "1KiB", "--title", "Backup", "--rights", "holding,processing"
    )
    assert code == 0, err
    with compute_tree(data, SealOptions(chunk_size=1024)) as computed:
        root = computed.tree.root_hex
    assert f"root           {root}" in out
    assert "leaves         5" in out
    assert "manifest hash  0x" in out
    manifest = json.loads((tmp_path / "data.bin.dataseal" / "manifest.json").read_text())
    assert (manifest["title"], manifest["rightsType"], manifest["tree"]["root"]) == (
        "Backup",
        ["holding", "processing"],
        root,
    )


def test_seal_json_output(capsys: pytest.CaptureFixture[str], table: Path, tmp_path: Path) -> None:
    report = run_json(capsys, "seal", table, "--rows", "-o", tmp_path / "out")
    assert report["kind"] == "table" and report["leaf_count"] == 3 and report["rights_type"] == 1
    assert Path(report["manifest"]) == tmp_path / "out" / "manifest.json"
    assert report["root"] == json.loads(Path(report["manifest"]).read_text())["tree"]["root"]


def test_prove_then_check_a_salted_row(capsys: pytest.CaptureFixture[str], table: Path, tmp_path: Path) -> None:
    secret = tmp_path / "owner.key"
    secret.write_bytes(bytes(range(32)))
    sealed = run_json(capsys, "seal", table, "--rows", "--salt-secret", secret)
    proof_file = tmp_path / "row1.json"
    code, out, err = run(capsys, "prove", table, "--row", "1", "--salt-secret", secret, "-o", proof_file)
    assert code == 0, err
    assert f"wrote {proof_file}: row 1 of {table}, 2 siblings to root {sealed['root']}" in out
    proof = json.loads(proof_file.read_text())
    assert proof["subject"]["row"] == '{"id":"2","name":"bob"}'
    code, out, err = run(capsys, "check", proof_file, "--root", sealed["root"])
    assert code == 0, err
    assert out.startswith(f"OK  {proof_file}: proof for root {sealed['root']}")
    report = run_json(capsys, "check", proof_file)
    assert report["ok"] and report["subject"] == "row 1" and report["not_checked"]


def test_prove_to_stdout(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = tmp_path / "data.bin"
    data.write_bytes(b"y" * 3000)
    run_json(capsys, "seal", data, "--chunk-size", "1000")
    code, out, _ = run(capsys, "prove", data, "--chunk", "2")
    assert code == 0
    assert json.loads(out)["subject"] == {"kind": "chunk", "index": 2, "offset": 2000, "length": 1000}


def test_check_a_tree_dump_and_a_manifest(capsys: pytest.CaptureFixture[str], table: Path) -> None:
    sealed = run_json(capsys, "seal", table, "--rows")
    tree = run_json(capsys, "check", sealed["tree"])
    assert tree["kind"] == "tree" and tree["root"] == sealed["root"]
    manifest = run_json(capsys, "check", sealed["manifest"])
    assert manifest["kind"] == "manifest" and sealed["manifest_hash"] in manifest["checked"][0]


def test_a_tampered_proof_fails_with_one_line(capsys: pytest.CaptureFixture[str], table: Path, tmp_path: Path) -> None:
    run_json(capsys, "seal", table, "--rows")
    proof_file = tmp_path / "p.json"
    assert run(capsys, "prove", table, "--row", "0", "-o", proof_file)[0] == 0
    proof = json.loads(proof_file.read_text())
    proof["subject"]["row"] = '{"id":"1","name":"mallory"}'
    proof_file.write_text(json.dumps(proof))
    code, out, err = run(capsys, "check", proof_file)
    assert code == 1 and out == ""
    assert err.startswith("dataseal: error: row 0's disclosed text and salt do not hash to the digest in its leaf")
    assert err.count("\n") == 1


def test_check_with_the_wrong_root_fails(capsys: pytest.CaptureFixture[str], table: Path, tmp_path: Path) -> None:
    sealed = run_json(capsys, "seal", table, "--rows")
    proof_file = tmp_path / "p.json"
    run(capsys, "prove", table, "--row", "2", "-o", proof_file)
    code, _, err = run(capsys, "check", proof_file, "--root", "0x" + "00" * 32)
    assert code == 1
    assert f"the proof is for another tree: its root is {sealed['root']}, expected 0x{'00' * 32}" in err
    code, _, err = run(capsys, "check", sealed["tree"], "--root", "0x" + "00" * 32)
    assert code == 1 and "the tree dump's root is" in err
    code, _, err = run(capsys, "check", proof_file, "--root", "0x1234")
    assert code == 1 and "--root is '0x1234'; expected a 32-byte hash" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["seal", "{tmp}/empty.bin"],
            "{tmp}/empty.bin is empty (0 bytes): there is nothing to seal, a tree needs at least one leaf: check that "
            "this is the file you meant\n",
        ),
        (["seal", "{tmp}/nothere"], "{tmp}/nothere does not exist: check the path\n"),
        (
            ["seal", "{tmp}/people.csv", "--chunk-size", "lots"],
            "chunk size 'lots' is not a size: give bytes (1048576) or a binary unit (64KiB, 1MiB, 4M) [--chunk-size]\n",
        ),
        (
            ["seal", "{tmp}/people.csv", "--salt-secret", "{tmp}/people.csv"],
            "a salt secret applies to table rows only: seal the table's rows, or leave out the secret (files and "
            "folders are sealed without salts) [--rows; --salt-secret FILE]",
        ),
        (
            ["seal", "{tmp}/people.csv", "--symlinks", "maybe"],
            "'maybe' is not a symlink policy: use refuse, skip or follow [--symlinks refuse|skip|follow]",
        ),
        (
            ["seal", "{tmp}/people.csv", "--rights", "owner"],
            "unknown rights type owner: use one or more of holding, processing, operation, comma-separated "
            "(数据资源持有, 数据加工使用, 数据产品经营) [--rights LIST]\n",
        ),
        (
            ["prove", "{tmp}/people.csv", "--row", "1"],
            "no manifest for {tmp}/people.csv at {tmp}/people.csv.dataseal/manifest.json: seal it first",
        ),
        (
            ["check", "{tmp}/people.csv"],
            "document file {tmp}/people.csv is not valid JSON (Expecting value: line 1, column 1); it is truncated or "
            "corrupted: check that this is the file you meant, or use an intact copy\n",
        ),
        (
            ["check", "{tmp}/truncated.json"],
            "is not valid JSON (Unterminated string starting at: line 1, column 33); it is truncated",
        ),
        (
            ["prove", "{tmp}/people.csv", "--row", "1", "--manifest", "{tmp}/people.csv"],
            "manifest file {tmp}/people.csv is not valid JSON (Expecting value: line 1, column 1); it is truncated or "
            "corrupted: check that this is the file you meant, or use an intact copy\n",
        ),
        (
            ["seal", "{tmp}", "--rows", "-o", "{tmp}/../x"],
            "is a folder; only a table file (CSV, JSON Lines, Parquet) is sealed by its rows: seal the folder without "
            "rows (one leaf per file), or one table file of it [--rows]",
        ),
    ],
)
def test_bad_input_gives_one_line_errors(
    capsys: pytest.CaptureFixture[str], table: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "empty.bin").write_bytes(b"")
    (tmp_path / "truncated.json").write_text('{"format":"standard-v1","tree":["0x')
    code, out, err = run(capsys, *[a.format(tmp=tmp_path) for a in args])
    assert code == 1
    assert err.startswith("dataseal: error: ") and message.format(tmp=tmp_path) in err
    assert err.count("\n") == 1 and out == ""


def test_prove_refuses_the_wrong_kind_of_part(capsys: pytest.CaptureFixture[str], table: Path) -> None:
    run_json(capsys, "seal", table, "--rows")
    code, _, err = run(capsys, "prove", table, "--chunk", "1")
    assert code == 1 and err.endswith(
        "was sealed as a table (rows): a proof is of one row (asked for chunk 1): say which row to prove [--row N]\n"
    )


def test_check_refuses_unknown_versions(capsys: pytest.CaptureFixture[str], table: Path, tmp_path: Path) -> None:
    run_json(capsys, "seal", table, "--rows")
    proof_file = tmp_path / "p.json"
    run(capsys, "prove", table, "--row", "0", "-o", proof_file)
    proof = json.loads(proof_file.read_text())
    proof["version"] = 9
    proof_file.write_text(json.dumps(proof))
    code, _, err = run(capsys, "check", proof_file)
    assert code == 1 and "is a dataseal.proof of version 9; this dataseal reads version 1: upgrade dataseal" in err


@pytest.mark.parametrize("command", ["seal", "prove", "check"])
def test_help_teaches_with_examples(capsys: pytest.CaptureFixture[str], command: str) -> None:
    code, out, _ = run(capsys, command, "--help")
    assert code == 0
    assert "Examples:" in out and f"dataseal {command} " in out


def test_no_progress_bar_when_not_a_terminal(capsys: pytest.CaptureFixture[str], table: Path) -> None:
    code, _, err = run(capsys, "seal", table, "--rows")
    assert code == 0 and err == ""


def test_check_an_evidence_bundle(capsys: pytest.CaptureFixture[str], table: Path, tmp_path: Path) -> None:
    sealed = seal(table, SealOptions(rows=True))
    proof = prove(table, sealed.manifest, row=2)
    record = ChainRecord(
        chain_id=31337,
        contract="0x" + "ab" * 20,
        tx_hash="0x" + "cd" * 32,
        block_number=9,
        timestamp=1_700_000_000,
        sender="0x" + "ab" * 20,
        asset=DirectRegistration(
            asset_id=1, content_root=sealed.root, manifest_hash=sealed.manifest_hash, rights_type=1, classification=0
        ),
    )
    bundle_file = tmp_path / "evidence.json"
    bundle_file.write_text(build_bundle(sealed.manifest, record, [proof]).model_dump_json(by_alias=True))
    report = run_json(capsys, "check", bundle_file, "--root", sealed.root)
    assert report["kind"] == "evidence" and len(report["checked"]) == 3
    assert "AssetRegistered" in report["not_checked"][0]
    data = json.loads(bundle_file.read_text())
    data["record"]["asset"]["contentRoot"] = "0x" + "00" * 32
    bundle_file.write_text(json.dumps(data))
    code, _, err = run(capsys, "check", bundle_file)
    assert code == 1 and "the on-chain record registers content root 0x0000" in err


def test_bad_table_values_and_absurd_nesting_give_one_line_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import pyarrow as pa  # a test dependency
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"f": [float("nan")]}), tmp_path / "p.parquet")
    (tmp_path / "s.jsonl").write_bytes(b'{"a":"\\ud800"}\n')
    (tmp_path / "d.json").write_text("[" * 100_000 + "\n")
    cases = [
        (["seal", "p.parquet", "--rows"], "p.parquet row 0, column 'f' cannot be sealed: nan has no JSON form"),
        (["seal", "s.jsonl", "--rows"], "s.jsonl line 1 (row 0): the string '\\ud800' holds a lone surrogate U+D800"),
        (["check", "d.json"], "d.json nests arrays or objects more than 64 levels deep; no dataseal proof"),
    ]
    for args, message in cases:
        code, out, err = run(capsys, *args[:1], tmp_path / args[1], *args[2:])
        assert code == 1 and out == "", err
        assert err.startswith("dataseal: error: ") and message in err and err.count("\n") == 1, err


def test_check_refuses_a_bundle_whose_parts_disagree(
    capsys: pytest.CaptureFixture[str], table: Path, tmp_path: Path
) -> None:
    sealed = seal(table, SealOptions(rows=True))
    proof = prove(table, sealed.manifest, row=2)
    record = ChainRecord(
        chain_id=31337, contract="0x" + "ab" * 20, tx_hash="0x" + "cd" * 32, block_number=9, timestamp=1_700_000_000,
        sender="0x" + "ab" * 20,
        asset=DirectRegistration(
            asset_id=1, content_root=sealed.root, manifest_hash=sealed.manifest_hash, rights_type=1, classification=0
        ),
    )
    good = build_bundle(sealed.manifest, record, [proof]).to_json_data()
    changes = [
        (lambda d: d["record"]["asset"].update(rightsType=5), "registers rightsType 5 (holding, operation), but"),
        (lambda d: d["proofs"][0].update(manifestHash="0x" + "11" * 32), "proof 0 was made for manifest 0x1111"),
        (lambda d: d["proofs"][0].update(subject={"kind": "file", "path": "x", "size": 1}), "proof 0 is about a file"),
    ]
    bundle_file = tmp_path / "evidence.json"
    for change, message in changes:
        data = json.loads(json.dumps(good))
        change(data)
        bundle_file.write_text(json.dumps(data))
        code, out, err = run(capsys, "check", bundle_file)
        assert code == 1 and out == "" and message in err and err.count("\n") == 1, err


def test_library_errors_end_with_the_flags_that_change_them(
    capsys: pytest.CaptureFixture[str], table: Path, tmp_path: Path
) -> None:
    """The library names options (``symlinks``, ``row``, ...); the CLI spells them as its flags."""
    import os

    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "real.txt").write_text("real")
    (folder / "link.txt").symlink_to("real.txt")
    fifos = tmp_path / "fifos"
    fifos.mkdir()
    (fifos / "a.txt").write_text("a")
    os.mkfifo(fifos / "pipe")
    secret = tmp_path / "owner.key"
    secret.write_bytes(bytes(range(32)))
    sealed = run_json(capsys, "seal", table, "--rows", "--salt-secret", secret)
    zero = "0x" + "00" * 32
    cases = [
        (
            ["seal", folder],
            "link.txt is a symlink (to 'real.txt'); dataseal never follows links silently: skip links, or follow "
            "them to seal what they point to inside the folder [--symlinks refuse|skip|follow]",
        ),
        (
            ["seal", fifos, "--symlinks", "skip"],
            "pipe is a fifo, not a regular file: leave special files out, or remove it from the folder "
            "[--skip-special]",
        ),
        (
            ["seal", folder, "--symlinks", "skip", "-o", folder / "seal"],
            f"the output folder {folder / 'seal'} is inside the folder being sealed ({folder}): choose an output "
            "folder outside it [-o/--out DIR]",
        ),
        (
            ["seal", table, "--chunk-size", "0", "-o", tmp_path / "zero"],
            "chunk size 0 is out of range: use 1 byte to 1 GiB (1073741824 bytes); the default is 1048576 (1 MiB) "
            "[--chunk-size]",
        ),
        (
            ["prove", table, "--row", "1"],
            f"{table} was sealed with per-row salts: give the same salt secret it was sealed with, to prove a row "
            "[--salt-secret FILE]",
        ),
        (
            ["prove", table, "--row", "99", "--salt-secret", secret],
            f"{table} has 3 rows; row 99 does not exist: give a row from 0 (the first data row) to 2 [--row N]",
        ),
        (
            ["prove", table, "--row", "1", "--salt-secret", tmp_path / "other.key"],
            f"salt secret file {tmp_path / 'other.key'} does not exist: check the path (a row is proved with "
            "the secret file its table was sealed with) [--salt-secret FILE]",
        ),
        (
            ["check", sealed["tree"], "--root", zero],
            f"the tree dump's root is {sealed['root']}, expected {zero}: check the expected root, or use the tree dump "
            "of the data registered under it [--root HEX]",
        ),
        (
            ["seal", table, "--rows", "--salt-secret", secret, "--salt-context", "x\udcff", "-o", tmp_path / "ctx"],
            "the salt context 'x\\udcff' is not Unicode text (it holds a lone surrogate): give plain text, or no salt "
            "context [--salt-context TEXT]",
        ),
        (
            ["seal", table, "--rows", "--format", "parquet", "-o", tmp_path / "pq"],
            f"{table} is not a readable Parquet file: ",
        ),
    ]
    for args, line in cases:
        code, out, err = run(capsys, *args)
        if line.endswith(": "):  # the reason is the reader's own words: the start and the end of the line
            assert code == 1 and out == "" and err.startswith(f"dataseal: error: {line}"), err
            assert err.endswith(": check that the file is a whole Parquet file, or give its real format "
                                "[--format csv|jsonl|parquet]\n"), err
            continue
        assert (code, out, err) == (1, "", f"dataseal: error: {line}\n")


# ---------------------------------------------------------------------- outputs: what -o may write


@pytest.fixture
def sealed_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Path:
    data = tmp_path / "data.bin"
    data.write_bytes(bytes(range(256)) * 20)
    run_json(capsys, "seal", data, "--chunk-size", "1KiB")
    return data


def test_prove_refuses_to_write_over_a_device_a_fifo_or_a_symlink(
    capsys: pytest.CaptureFixture[str], sealed_file: Path, tmp_path: Path
) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    link = tmp_path / "link.json"
    link.symlink_to(victim)
    device = null_device(tmp_path)
    for target, what in ((device, "a character device"), (fifo, "a FIFO"), (link, "a symbolic link")):
        for force in ((), ("--force",)):
            code, out, err = run(capsys, "prove", sealed_file, "--chunk", "1", "-o", target, *force)
            assert (code, out) == (1, ""), err
            assert one_line(err) == (
                f"dataseal: error: refusing to write output file {target}: it is {what}, not a regular file, and "
                "writing would replace it: choose the path of a regular file, or of one that does not exist yet "
                "[-o/--out FILE]"
            )
    assert stat.S_ISCHR(os.lstat(device).st_mode) and os.lstat(device).st_rdev == os.makedev(1, 3)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and os.path.islink(link) and victim.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temp file left


def test_prove_replaces_an_existing_file_only_with_force_and_keeps_its_mode(
    capsys: pytest.CaptureFixture[str], sealed_file: Path, tmp_path: Path
) -> None:
    target = tmp_path / "proof.json"
    target.write_text("old")
    target.chmod(0o640)
    code, out, err = run(capsys, "prove", sealed_file, "--chunk", "1", "-o", target)
    assert (code, out) == (1, "")
    assert one_line(err) == (
        f"dataseal: error: output file {target} already exists: choose another path, or allow replacing it "
        "[-o/--out FILE; --force]"
    )
    assert target.read_text() == "old"
    code, out, err = run(capsys, "prove", sealed_file, "--chunk", "1", "-o", target, "--force")
    assert code == 0, err
    assert json.loads(target.read_text())["subject"]["index"] == 1
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_read_only_output_is_never_replaced_even_with_force(
    capsys: pytest.CaptureFixture[str], sealed_file: Path, tmp_path: Path
) -> None:
    # Decided from the mode bits, not from a permission error: the tests run as root too.
    target = tmp_path / "proof.json"
    target.write_text("protected")
    target.chmod(0o444)
    code, out, err = run(capsys, "prove", sealed_file, "--chunk", "1", "-o", target, "--force")
    assert (code, out) == (1, "")
    assert one_line(err) == (
        f"dataseal: error: refusing to replace output file {target}: it is read-only (mode 0444): choose another "
        "path, or make the file writable first if it is to be replaced [-o/--out FILE]"
    )
    assert target.read_text() == "protected" and stat.S_IMODE(target.stat().st_mode) == 0o444


def test_seal_replaces_an_earlier_seal_only_with_force(capsys: pytest.CaptureFixture[str], sealed_file: Path) -> None:
    out_dir = sealed_file.parent / "data.bin.dataseal"
    before = (out_dir / "manifest.json").read_bytes()
    sealed_file.write_bytes(b"changed" * 1000)
    code, out, err = run(capsys, "seal", sealed_file, "--chunk-size", "1KiB")
    assert (code, out) == (1, "")
    assert one_line(err) == (
        f"dataseal: error: output file {out_dir / 'manifest.json'} already exists: choose another path, or allow "
        "replacing it [-o/--out DIR; --force]"
    )
    assert (out_dir / "manifest.json").read_bytes() == before
    report = run_json(capsys, "seal", sealed_file, "--chunk-size", "1KiB", "--force")
    assert json.loads((out_dir / "manifest.json").read_text())["tree"]["root"] == report["root"] != json.loads(
        before
    )["tree"]["root"]


def test_seal_refuses_a_symlinked_manifest_in_its_output_folder(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = tmp_path / "data.bin"
    data.write_bytes(b"z" * 3000)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (out_dir / "tree.json").symlink_to(victim)
    code, _, err = run(capsys, "seal", data, "-o", out_dir, "--force")
    assert code == 1
    assert f"refusing to write output file {out_dir / 'tree.json'}: it is a symbolic link" in one_line(err)
    assert victim.read_text() == "keep me" and not (out_dir / "manifest.json").exists()


def test_writing_where_no_file_can_be_is_one_line_exit_1(
    capsys: pytest.CaptureFixture[str], sealed_file: Path, tmp_path: Path
) -> None:
    # As root no mode bit refuses a write: a file where a folder is expected, and /proc, still do.
    for args in (["seal", sealed_file, "-o", sealed_file / "out"], ["seal", sealed_file, "-o", "/proc/dataseal-x"],
                 ["prove", sealed_file, "--chunk", "0", "-o", sealed_file / "p.json"],
                 ["prove", sealed_file, "--chunk", "0", "-o", "/proc/dataseal-p.json"]):
        code, out, err = run(capsys, *args)
        assert (code, out) == (1, ""), err
        assert one_line(err).startswith("dataseal: error: ") and "internal error" not in err


# ---------------------------------------------------------------------- inputs: what is read, how much


def test_documents_and_secrets_must_be_regular_files(
    capsys: pytest.CaptureFixture[str], sealed_file: Path, table: Path, tmp_path: Path
) -> None:
    # A device (/dev/zero was read until the kernel killed dataseal; see tests/support/devices.py for why
    # this one is made here), then a FIFO nobody writes (reading it whole would wait for ever).
    device = null_device(tmp_path)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    cases = [
        (["check", device], f"document file {device} is not a regular file (it is a character device)"),
        (["prove", sealed_file, "--chunk", "0", "--manifest", device],
         f"manifest file {device} is not a regular file (it is a character device)"),
        (["seal", table, "--rows", "--salt-secret", device, "-o", tmp_path / "s"],
         f"salt secret file {device} is not a regular file (it is a character device)"),
        (["check", fifo], f"document file {fifo} is not a regular file (it is a FIFO)"),
        (["seal", table, "--rows", "--salt-secret", fifo, "-o", tmp_path / "s"],
         f"salt secret file {fifo} is not a regular file (it is a FIFO)"),
    ]
    for args, message in cases:
        code, out, err = run(capsys, *args)
        assert (code, out) == (1, ""), err
        assert one_line(err).startswith(f"dataseal: error: {message}: give the path of a regular file"), err


def test_documents_and_secrets_larger_than_their_cap_are_refused(
    capsys: pytest.CaptureFixture[str], sealed_file: Path, table: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (MAX_DOCUMENT_BYTES + 1))
    code, _, err = run(capsys, "prove", sealed_file, "--chunk", "0", "--manifest", big)
    assert code == 1 and one_line(err) == (
        f"dataseal: error: manifest file {big} is larger than {MAX_DOCUMENT_BYTES:,} bytes, more than any valid one "
        "holds: check that this is the file you meant"
    )
    monkeypatch.setattr(checks, "MAX_CHECKED_FILE_BYTES", MAX_DOCUMENT_BYTES)  # not 256 MiB of test file
    code, _, err = run(capsys, "check", big)
    assert code == 1 and f"document file {big} is larger than {MAX_DOCUMENT_BYTES:,} bytes" in one_line(err)
    secret = tmp_path / "huge.key"
    secret.write_bytes(os.urandom(MAX_SECRET_BYTES + 1))
    code, _, err = run(capsys, "seal", table, "--rows", "--salt-secret", secret, "-o", tmp_path / "s")
    assert code == 1 and one_line(err) == (
        f"dataseal: error: salt secret file {secret} is larger than {MAX_SECRET_BYTES:,} bytes, more than any valid "
        "one holds: check that this is the file you meant [--salt-secret FILE]"
    )
    secret.write_bytes(os.urandom(MAX_SECRET_BYTES))  # the cap itself is taken
    assert run(capsys, "seal", table, "--rows", "--salt-secret", secret, "-o", tmp_path / "s")[0] == 0


# ---------------------------------------------------------------------- check: only what was checked


def test_check_never_prints_an_edited_chunk_range_as_checked(
    capsys: pytest.CaptureFixture[str], sealed_file: Path, tmp_path: Path
) -> None:
    proof_file = tmp_path / "chunk2.json"
    assert run(capsys, "prove", sealed_file, "--chunk", "2", "-o", proof_file)[0] == 0
    proof = json.loads(proof_file.read_text())
    proof["subject"].update(offset=14, length=7)  # really 2048..3071
    proof_file.write_text(json.dumps(proof))
    code, out, err = run(capsys, "check", proof_file)
    assert code == 0, err
    checked = [line for line in out.splitlines() if line.startswith("  checked")]
    assert checked == [f"  checked      chunk 2 is in the tree with root {proof['root']}"]
    assert ("  not checked  that chunk 2 is bytes 14..20, as the proof says (the range follows from the manifest's "
            "chunk size and file size: check an evidence bundle, which holds the manifest)") in out.splitlines()
    assert run_json(capsys, "check", proof_file)["subject"] == "chunk 2"


def test_check_and_prove_refuse_a_manifest_inconsistent_with_itself(
    capsys: pytest.CaptureFixture[str], sealed_file: Path, tmp_path: Path
) -> None:
    manifest = json.loads((sealed_file.parent / "data.bin.dataseal" / "manifest.json").read_text())
    assert (manifest["content"]["size"], manifest["tree"]["leafCount"]) == (5120, 5)
    edits = [
        (lambda m: m["tree"].update(leafCount=4), "tree.leafCount is 4, but the content has 5 chunks"),
        (lambda m: m["content"].update(size=10**30), "content.file.size: Input should be less than or equal to"),
        (lambda m: m["content"].update(chunkSize=2**70), "content.file.chunkSize: Input should be less than or equal"),
    ]
    for edit, message in edits:
        edited = json.loads(json.dumps(manifest))
        edit(edited)
        path = tmp_path / "edited.json"
        path.write_text(json.dumps(edited))
        for args in (["check", path], ["prove", sealed_file, "--chunk", "0", "--manifest", path]):
            code, out, err = run(capsys, *args)
            assert (code, out) == (1, "")
            assert message in one_line(err)


def test_seal_refuses_more_chunks_than_the_cap_before_reading(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = tmp_path / "two-mb.bin"
    data.write_bytes(os.urandom(2_000_000))
    code, out, err = run(capsys, "seal", data, "--chunk-size", "1")
    assert (code, out) == (1, "")
    assert one_line(err) == (
        f"dataseal: error: {data} is 2,000,000 bytes: in chunks of 1 bytes that is 2,000,000 chunks, more than the "
        "1,048,576 a sealed file may have: use a chunk size of at least 2 bytes [--chunk-size]"
    )
    assert not (tmp_path / "two-mb.bin.dataseal").exists()
