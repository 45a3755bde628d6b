"""`dataseal grant | revoke | receipt new | use | use-batch | trade` against an embedded data folder, in-process."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_account import Account
from eth_utils import keccak

from dataseal.chain.accounts.keystore import LIGHT_SCRYPT_N, Keystore, keystore_dir
from dataseal.chain.contracts.records import Registration
from dataseal.chain.node.start import EmbeddedNode, NodeConfig
from dataseal.registry.context import Context
from dataseal.registry.settings import Settings
from tests.cli.conftest import Cli, one_line


@pytest.fixture
def folder(cli: Cli, tmp_path: Path) -> tuple[str, Path, int]:
    """An embedded data folder (operator = asset owner) with a second, funded keystore account (the user);
    returns (user address, user's password file, an Active asset id of the operator)."""
    user = Account.create()
    EmbeddedNode.start(NodeConfig(data_dir=cli.data_dir, port=0, light_kdf=True, fund={user.address: 10**20})).stop()
    with Context.open(Settings(data_dir=cli.data_dir)) as context:
        operator = context.keystore.list()[0].address
        sender = context.sender(context.unlock())
        asset = context.contracts(sender).registry.register(Registration(keccak(text="r"), keccak(text="m"), 1, 0))
    password = tmp_path / "user.pw"
    password.write_text("user password\n")
    Keystore(keystore_dir(cli.data_dir), scrypt_n=LIGHT_SCRYPT_N).import_private_key(bytes(user.key), "user password")
    cli.operator = operator  # type: ignore[attr-defined]
    return user.address, password, asset.asset_id


def as_operator(cli: Cli) -> list[str]:
    return ["--account", cli.operator]  # type: ignore[attr-defined]


def test_grant_receipt_use_batch_revoke(cli: Cli, folder: tuple[str, Path, int], tmp_path: Path) -> None:
    user, password, asset = folder
    as_user = ["--account", user, "--password-file", str(password)]
    scope = tmp_path / "scope.txt"
    scope.write_text("0-99\n")
    granted = cli.json("grant", str(asset), user, "--purpose", "model training", "--until", "30d", "--quota", "5",
                       "--scope", str(scope), *as_operator(cli))
    grant_id = granted["grant"]["grant_id"]
    assert granted["purpose"] == "model training" and granted["scope"]["indexes"] == "0-99"
    assert granted["resumed"] is False
    ordered = [str(asset), user, "--purpose", "reporting", "--until", "1d", "--quota", "1", "--request", "order-7"]
    first = cli.json("grant", *ordered, *as_operator(cli))
    again = cli.json("grant", *ordered, *as_operator(cli))
    assert again["grant"] == first["grant"] and again["resumed"] is True and first["grant"]["grant_id"] == grant_id + 1
    result = tmp_path / "model.bin"
    result.write_bytes(b"weights")
    receipt = tmp_path / "r1.json"
    made = cli.json("receipt", "new", str(grant_id), "--job", "train-1", "--rows", "0-9,20", "--units", "2",
                    "--result", str(result), "-o", str(receipt))
    assert json.loads(receipt.read_text())["touched"]["count"] == 11 and made["receipt"]["units"] == 2

    used = cli.json("use", str(grant_id), "--units", "2", "--receipt", str(receipt), *as_user)
    assert used["record"]["sequence"] == 1 and used["already_recorded"] is False
    code, out, err = cli("use", str(grant_id), "--units", "2", "--receipt", str(receipt), *as_user)
    assert code == 0 and "was already recorded" in out

    batch = tmp_path / "batch"
    batch.mkdir()
    for job in ("a", "b"):
        assert cli("receipt", "new", str(grant_id), "--job", job, "--rows", "1", "--units", "1", "--result-hash",
                   "0x" + "11" * 32, "--private", "-o", str(batch / f"{job}.json"))[0] == 0
    done = cli.json("use-batch", str(grant_id), "--receipts", str(batch), "--proofs", str(tmp_path / "proofs"),
                    *as_user)
    assert done["count"] == 2 and done["units"] == 2 and len(list((tmp_path / "proofs").iterdir())) == 2

    late = tmp_path / "r2.json"
    code, out, err = cli("receipt", "new", str(grant_id), "--job", "over", "--rows", "3", "--units", "2",
                         "--result-hash", "0x" + "22" * 32, "-o", str(late))
    assert code == 1 and out == "" and not late.exists()  # receipt new refuses what use would refuse
    assert f"grant {grant_id} has 1 of its 5 units left, 2 units were asked for" in one_line(err)
    from tests.cli.test_receipts_cli import write_unchecked_receipt
    start = granted["grant"]["valid_from"]
    write_unchecked_receipt(cli, grant_id, late, started=start, ended=start, purpose="model training", units=2)
    code, out, err = cli("use", str(grant_id), "--units", "2", "--receipt", str(late), *as_user)
    assert code == 1 and out == ""
    assert f"grant {grant_id} has 1 of its 5 units left, 2 units were asked for" in one_line(err)

    code, out, err = cli("use", str(grant_id), "--units", "1", "--receipt", str(late), *as_user)
    assert code == 1 and "1 unit was asked to be recorded, but the receipt says the job used 2" in one_line(err)
    assert "[--units N]" in err

    revoked = cli.json("revoke", str(grant_id), "--reason", "ended", *as_operator(cli))
    assert revoked["revocation"]["reason_hash"] == "0x" + keccak(text="ended").hex()
    assert (revoked["reason"], revoked["already_done"], revoked["resumed"]) == ("ended", False, False)
    again = cli.json("revoke", str(grant_id), *as_operator(cli))
    assert again["already_done"] is True and again["reason"] == "ended"
    assert again["revocation"] == revoked["revocation"]
    code, out, err = cli("revoke", str(grant_id), *as_operator(cli))
    tx = revoked["revocation"]["tx"]
    assert code == 0 and err == "" and out.splitlines() == [
        f"revoke grant {grant_id} of asset {asset}: already revoked by {cli.operator} "  # type: ignore[attr-defined]
        f"(tx {tx['tx_hash']}, block {tx['block_number']}); nothing sent", "reason   'ended'"]
    code, out, err = cli("receipt", "new", str(grant_id), "--job", "after", "--rows", "3", "--units", "1",
                         "--result-hash", "0x" + "22" * 32, "-o", str(tmp_path / "after.json"))
    assert code == 1 and not (tmp_path / "after.json").exists()
    assert f"grant {grant_id} is Revoked: ask the asset owner for a new grant" in one_line(err)
    code, out, err = cli("use", str(grant_id), "--units", "2", "--receipt", str(late), *as_user)
    assert code == 1 and f"grant {grant_id} is Revoked: ask the asset owner for a new grant" in one_line(err)


def test_a_trade_in_three_steps(cli: Cli, folder: tuple[str, Path, int], tmp_path: Path) -> None:
    user, password, asset = folder
    contract = tmp_path / "contract.txt"
    contract.write_text("sale of asset 1")
    offer, signature = tmp_path / "offer.json", tmp_path / "sig.json"
    made = cli.json("trade", "offer", str(asset), user, "--price", "500", "--settlement", str(contract), "-o",
                    str(offer))
    assert made["offer"]["settlement"] == "transfer" and made["offer"]["seller"] == cli.operator  # type: ignore
    assert cli("trade", "sign", str(offer), "-o", str(signature), *as_operator(cli))[0] == 1  # not the buyer
    signed = cli.json("trade", "sign", str(offer), "-o", str(signature), "--account", user, "--password-file",
                      str(password))
    assert signed["signature"]["buyer"] == user
    recorded = cli.json("trade", "record", str(offer), "--signature", str(signature), *as_operator(cli))
    assert recorded["record"]["buyer"] == user and recorded["already_recorded"] is False
    again = cli.json("trade", "record", str(offer), "--signature", str(signature), *as_operator(cli))
    assert again["already_recorded"] is True and again["record"] == recorded["record"]


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["grant", "{asset}", "0x1234", "--purpose", "p", "--until", "1d", "--quota", "1"], 1,
         "grantee '0x1234' is not an address"),
        (["grant", "99", "{user}", "--purpose", "p", "--until", "1d", "--quota", "1"], 1,
         "UnknownAsset(assetId=99): no asset 99 on this chain"),
        (["grant", "{asset}", "{user}", "--purpose", "p", "--until", "soon", "--quota", "1"], 1,
         "until 'soon' is not a time: give now, an ISO date"),
        (["grant", "{asset}", "{user}", "--purpose", "p", "--until", "1d", "--quota", "0"], 1,
         "the quota 0 is not a number of units"),
        (["grant", "{asset}", "{user}", "--purpose", "p", "--until", "1d", "--quota", "1", "--user"], 1,
         "does not own asset"),
        (["grant", "{asset}", "{user}", "--purpose", "p", "--from", "2000-01-01", "--until", "2000-02-01", "--quota",
          "1"], 1, "already past (the next block will carry "),
        (["revoke", "42"], 1, "UnknownGrant(grantId=42): no grant 42 on this chain"),
        (["receipt", "new", "42", "--job", "j", "--rows", "1", "--units", "1", "--result-hash", "0x" + "12" * 32, "-o",
          "x"], 1, "UnknownGrant(grantId=42)"),
        (["receipt", "new", "1", "--job", "j", "--rows", "1", "--units", "1", "-o", "x"], 2,
         "give one of --result FILE and --result-hash HEX"),
        (["receipt", "new", "1", "--job", "j", "--rows", "x-y", "--units", "1", "--result-hash", "0x12", "-o", "x"], 1,
         "neither an index (0, 1, 2, ...) nor a range FIRST-LAST"),
        (["receipt", "new", "1", "--job", "j", "--rows", "1", "--units", "1", "--result-hash", "0x12", "-o", "x"], 1,
         "the result hash '0x12' is not a 32-byte hash (0x and 64 hex digits): give the hash of the job's result, or "
         "the result file [--result-hash HEX or --result FILE]"),
        (["receipt", "new", "1", "--job", "j", "--rows", "1", "--units", "0", "--result-hash", "0x" + "11" * 32, "-o",
          "x"], 1, "0 is not a number of usage units (1 to 18446744073709551615): give the units the job used "
         "[--units N]"),
        (["receipt", "new", "1", "--job", "", "--rows", "1", "--units", "1", "--result-hash", "0x" + "11" * 32, "-o",
          "x"], 1, "the job id '' is not a text of 1 to 256 characters: give the job's, query's or run's own id "
         "[--job ID]"),
        (["receipt", "new", "0", "--job", "j", "--rows", "1", "--units", "1", "--result-hash", "0x" + "11" * 32, "-o",
          "x"], 1, "0 is not a grant id (grant ids are whole numbers from 1)"),
        (["use", "1", "--units", "-1", "--receipt", "missing.json"], 1, "-1 is not a number of usage units"),
        (["use", "42", "--units", "1", "--receipt", "missing.json"], 1, "receipt file missing.json does not exist"),
        (["trade", "offer", "{asset}", "{user}", "--price", "1", "--settlement-hash", "0xzz", "-o", "o.json"], 1,
         "the settlement hash '0xzz' is not a 32-byte hash"),
    ],
)
def test_bad_input_is_one_line(cli: Cli, folder: tuple[str, Path, int], args: list[str], code: int,
                               needle: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user, password, asset = folder
    monkeypatch.chdir(tmp_path)
    argv = [a.format(asset=asset, user=user) for a in args]
    if "--user" in argv:
        argv.remove("--user")
        argv += ["--account", user, "--password-file", str(password)]
    elif argv[0] in ("grant", "revoke"):
        argv += as_operator(cli)
    got, out, err = cli(*argv)
    assert got == code and out == ""
    assert needle in (one_line(err) if code == 1 else " ".join(err.split()))
    assert not (tmp_path / "x").exists() and not (tmp_path / "o.json").exists()


def test_help_teaches(cli: Cli) -> None:
    for command in (["grant"], ["revoke"], ["use"], ["use-batch"], ["receipt", "new"], ["trade", "offer"],
                    ["trade", "sign"], ["trade", "record"]):
        code, out, _ = cli(*command, "--help", data_dir=False)
        assert code == 0 and "Examples:" in out and "--json" in out, command
    code, out, _ = cli("grant", "--help", data_dir=False)
    assert "keccak256" in " ".join(out.split()) and "30d" in out


def test_prove_a_row_inside_a_grants_scope_then_check_it(cli: Cli, folder: tuple[str, Path, int],
                                                         tmp_path: Path) -> None:
    user, _, _ = folder
    data = tmp_path / "people.csv"
    data.write_text("id,name\n" + "".join(f"{i},person {i}\n" for i in range(6)))
    secret = tmp_path / "owner.key"
    secret.write_bytes(bytes(range(32)))
    salted = ["--salt-secret", str(secret)]
    asset = cli.json("register", str(data), *salted, *as_operator(cli))["asset_id"]
    scope = tmp_path / "scope.txt"
    scope.write_text("0-2\n")
    grant_id = cli.json("grant", str(asset), user, "--purpose", "audit", "--until", "30d", "--quota", "5", "--scope",
                        str(scope), *as_operator(cli))["grant"]["grant_id"]
    bundle = tmp_path / "row1.json"
    proved = cli.json("prove", str(data), "--row", "1", *salted, "--grant", str(grant_id), "-o", str(bundle))
    assert proved["scope"]["grant_id"] == grant_id and proved["scope"]["leaf_index"] == 1
    assert json.loads(bundle.read_text())["scope"]["grantId"] == grant_id
    assert not (tmp_path / "row1.json.scope.json").exists()  # the scope proof is in the bundle
    code, out, err = cli("check", str(bundle), "--json", data_dir=False)
    assert code == 0, err
    report = json.loads(out)
    assert any(f"inside grant {grant_id}'s scope root" in line for line in report["checked"])

    code, out, err = cli("prove", str(data), "--row", "4", *salted, "--grant", str(grant_id), "-o",
                         str(tmp_path / "r4.json"))
    assert code == 1 and out == "" and not (tmp_path / "r4.json").exists()
    assert f"row 4 (leaf 4) is outside grant {grant_id}'s scope (3 indexes: 0-2)" in one_line(err)

    tampered = json.loads(bundle.read_text())
    tampered["scope"]["leafIndex"] = 2
    (tmp_path / "tampered.json").write_text(json.dumps(tampered))
    code, out, err = cli("check", str(tmp_path / "tampered.json"), data_dir=False)
    assert code == 1 and "proves leaf 2 inside grant" in one_line(err)


def test_audit_takes_the_proofs_use_batch_wrote_and_each_batch_of_a_grant(
        cli: Cli, folder: tuple[str, Path, int], tmp_path: Path) -> None:
    user, password, asset = folder
    as_user = ["--account", user, "--password-file", str(password)]
    grant_id = cli.json("grant", str(asset), user, "--purpose", "reporting", "--until", "30d", "--quota", "100",
                        *as_operator(cli))["grant"]["grant_id"]
    everything, only_a1 = tmp_path / "all", tmp_path / "a1"
    for folder_ in (everything, only_a1):
        folder_.mkdir()
    for name, jobs in (("a", ("a1", "a2")), ("b", ("b1", "b2", "b3"))):
        batch = tmp_path / name
        batch.mkdir()
        for job in jobs:
            assert cli("receipt", "new", str(grant_id), "--job", job, "--rows", "1", "--units", "2", "--result-hash",
                       "0x" + "33" * 32, "-o", str(batch / f"{job}.json"))[0] == 0
            for into in (everything, only_a1) if job == "a1" else (everything,):
                (into / f"{job}.json").write_text((batch / f"{job}.json").read_text())
        cli.json("use-batch", str(grant_id), "--receipts", str(batch), "--proofs", str(tmp_path / f"proofs-{name}"),
                 *as_user)

    report = cli.json("audit", str(asset), "--receipts", str(everything))
    checks = report["receipts"]
    assert [c["job_id"] for c in checks] == ["a1", "a2", "b1", "b2", "b3"]
    assert all(c["ok"] and c["recorded"] == "batch" and c["batch_complete"] for c in checks)
    assert len({c["batch_root"] for c in checks}) == 2 and all(c["extent"] == "not checked" for c in checks)

    code, out, err = cli("audit", str(asset), "--receipts", str(only_a1))
    assert code == 1 and "give its batch proof, or all the receipts of its batch" in one_line(err)
    code, out, err = cli("audit", str(asset), "--receipts", str(only_a1), "--proofs", str(tmp_path / "proofs-a"))
    assert code == 0, err
    assert "OK   receipt " in out and "job 'a1'" in out and "(the batch's units not checked: not all its receipts " \
        "given)" in out and "indexes not checked" in out
    code, _, err = cli("audit", str(asset), "--proofs", str(tmp_path / "proofs-a"))
    assert code == 2 and "add --receipts DIR" in one_line(err)
    code, _, err = cli("audit", str(asset), "--receipts", str(only_a1), "--proofs", str(tmp_path / "none"))
    assert code == 1 and "is not a folder" in one_line(err)


def test_use_refuses_a_job_outside_the_grants_window(cli: Cli, folder: tuple[str, Path, int], tmp_path: Path) -> None:
    user, password, asset = folder
    grant_id = cli.json("grant", str(asset), user, "--purpose", "reporting", "--until", "30d", "--quota", "10",
                        *as_operator(cli))["grant"]["grant_id"]
    receipt = tmp_path / "2020.json"
    code, out, err = cli("receipt", "new", str(grant_id), "--job", "old", "--rows", "1", "--units", "1",
                         "--result-hash", "0x" + "44" * 32, "--started", "2020-01-01", "--ended", "2020-01-02", "-o",
                         str(receipt))
    assert code == 1 and out == "" and not receipt.exists()  # receipt new runs use's checks
    assert f"outside grant {grant_id}'s window" in one_line(err)
    from tests.cli.test_receipts_cli import write_unchecked_receipt
    write_unchecked_receipt(cli, grant_id, receipt, started=1_577_836_800, ended=1_577_923_200)
    code, out, err = cli("use", str(grant_id), "--units", "1", "--receipt", str(receipt), "--account", user,
                         "--password-file", str(password))
    assert code == 1 and out == ""
    assert f"says the job ran 2020-01-01T00:00:00Z .. 2020-01-02T00:00:00Z, outside grant {grant_id}'s window" in \
        one_line(err)


def test_a_second_licence_offer_is_its_own_trade_and_prices_are_shown_in_the_smallest_unit(
        cli: Cli, folder: tuple[str, Path, int], tmp_path: Path) -> None:
    """Same asset, buyer, price and settlement as a recorded trade, another quota: recorded, not "already recorded"."""
    user, password, asset = folder
    as_buyer = ["--account", user, "--password-file", str(password)]
    trades = []
    for quota in ("10", "20"):
        offer, signature = tmp_path / f"offer-{quota}.json", tmp_path / f"sig-{quota}.json"
        code, out, err = cli("trade", "offer", str(asset), user, "--price", "500", "--settlement-hash",
                             "0x" + "55" * 32, "--licence", "reporting", "--until", "30d", "--quota", quota, "-o",
                             str(offer))
        assert code == 0 and "for 5.00 CNY (500 in the smallest unit), to be signed by" in out
        assert cli("trade", "sign", str(offer), "-o", str(signature), *as_buyer)[0] == 0
        code, out, err = cli("trade", "record", str(offer), "--signature", str(signature), *as_operator(cli))
        assert code == 0 and " recorded: " in out and "already" not in out, out
        assert "for 5.00 CNY (500 in the smallest unit)" in out
        trades.append(out.split()[1])
    assert trades == ["1", "2"]
    code, out, _ = cli("trade", "offer", "--help", data_dir=False)
    assert code == 0 and "smallest unit" in out and "5,000.00 CNY is --price 500000" in out


def test_a_scope_beyond_the_asset_is_refused_and_counts_of_one_are_singular(
        cli: Cli, folder: tuple[str, Path, int], tmp_path: Path) -> None:
    user, password, unsealed = folder
    as_user = ["--account", user, "--password-file", str(password)]
    data = tmp_path / "people.csv"
    data.write_text("id,name\n" + "".join(f"{i},person {i}\n" for i in range(6)))
    secret = tmp_path / "owner.key"
    secret.write_bytes(bytes(range(32)))
    asset = cli.json("register", str(data), "--salt-secret", str(secret), *as_operator(cli))["asset_id"]
    scope = tmp_path / "badscope.txt"
    scope.write_text("0-5\n30\n")
    code, out, err = cli("grant", str(asset), user, "--purpose", "p", "--until", "1d", "--quota", "1", "--scope",
                         str(scope), *as_operator(cli))
    assert code == 1 and out == ""
    assert one_line(err) == (f"dataseal: error: the scope lists index 30, beyond asset {asset}'s 6 rows (indexes 0 "
                             "to 5; 1 of the scope's 7 indexes is beyond them): give row indexes from 0 to 5 in the "
                             "scope [--scope FILE]")

    scope.write_text("4\n")
    code, out, err = cli("grant", str(asset), user, "--purpose", "p", "--until", "1d", "--quota", "1", "--scope",
                         str(scope), *as_operator(cli))
    assert code == 0 and err == "", err
    assert out.startswith(f"grant 1 of asset {asset} ")  # the refused grant made none
    assert "quota    1 unit\n" in out and "scope    1 index, root" in out
    code, out, err = cli("grant", str(unsealed), user, "--purpose", "p", "--until", "1d", "--quota", "2", "--scope",
                         str(scope), "--json", *as_operator(cli))
    assert code == 0 and json.loads(out)["scope_unchecked"] == (
        f"this registry holds no manifest of asset {unsealed}, so the scope's indexes were not checked against its "
        "leaves")
    assert one_line(err) == f"warning: {json.loads(out)['scope_unchecked']}"

    receipt = tmp_path / "r.json"
    assert cli("receipt", "new", "1", "--job", "j", "--rows", "4", "--units", "1", "--result-hash", "0x" + "11" * 32,
               "-o", str(receipt))[0] == 0
    code, out, err = cli("use", "1", "--units", "1", "--receipt", str(receipt), *as_user)
    assert code == 0 and "recorded under grant 1: 1 unit, sequence 1\n" in out
    batch = tmp_path / "batch"
    batch.mkdir()
    assert cli("receipt", "new", "2", "--job", "b", "--rows", "4", "--units", "1", "--result-hash", "0x" + "11" * 32,
               "-o", str(batch / "b.json"))[0] == 0
    code, out, err = cli("use-batch", "2", "--receipts", str(batch), *as_user)
    assert code == 0 and " of 1 receipt recorded under grant 2: 1 unit, sequence 1\n" in out
