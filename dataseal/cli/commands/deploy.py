"""`dataseal deploy`: deploy the three contracts to a node and write the deployment record."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import typer
from eth_utils import is_address

from dataseal.chain.contracts.deployment import (
    DEFAULT_ADMIN_DELAY,
    DEFAULT_MAX_COMMIT_AGE,
    DEFAULT_MIN_COMMIT_AGE,
    DEFAULT_NOTICE_PERIOD,
    ContractConfig,
    commitments_by_default,
)
from dataseal.cli.options import (
    ACCOUNT,
    CHAIN_ID,
    DATA_DIR,
    PASSWORD_FILE,
    describe_config,
    eth,
    format_duration,
    parse_duration,
    settings,
)
from dataseal.cli.output import JSON, emit, note
from dataseal.cli.prompt import TerminalPrompt
from dataseal.registry.context import Context, deploy_target


def deploy(
    rpc: str | None = typer.Option(
        None, "--rpc", help="JSON-RPC URL of the node to deploy to (http://, https://, ws://, wss://). "
        "Default: DATASEAL_RPC_URL.", show_default=False,
    ),
    account: str | None = ACCOUNT,
    password_file: Path | None = PASSWORD_FILE,
    review_mode: bool = typer.Option(
        False, "--review-mode",
        help=f"Review mode with the default notice period ({format_duration(DEFAULT_NOTICE_PERIOD)}): the same as "
        f"--notice-period {format_duration(DEFAULT_NOTICE_PERIOD)}.",
    ),
    notice_period: str | None = typer.Option(
        None, "--notice-period", metavar="DURATION",
        help="Review mode: each registration stays Pending for this public notice period (15d, 36h, 90m, 900s or "
        "seconds), during which anyone may object and a REVIEWER may reject it; with no objection it is Active "
        "when the notice ends. 0 or absent: no review. Fixed at deployment.", show_default=False,
    ),
    commits: bool | None = typer.Option(
        None, "--commits/--no-commits",
        help="Require each registration to reveal a commitment made earlier, so that nobody who sees the "
        "registration waiting in a public mempool can register the root first. Default: required, except on a "
        "local development chain (chain id 31337, 1337 or the embedded chain's) unless a commitment age is given.",
        show_default=False,
    ),
    commit_min_age: str | None = typer.Option(
        None, "--commit-min-age", metavar="DURATION",
        help=f"Youngest commitment a registration may reveal (default {format_duration(DEFAULT_MIN_COMMIT_AGE)}).",
        show_default=False,
    ),
    commit_max_age: str | None = typer.Option(
        None, "--commit-max-age", metavar="DURATION",
        help=f"Oldest commitment a registration may reveal (default {format_duration(DEFAULT_MAX_COMMIT_AGE)}).",
        show_default=False,
    ),
    admin_delay: str = typer.Option(
        format_duration(DEFAULT_ADMIN_DELAY), "--admin-delay", metavar="DURATION",
        help="How long a new admin of the AssetRegistry waits before accepting the role (two-step handover).",
    ),
    admin: str | None = typer.Option(
        None, "--admin", help="Address that holds the admin role of the AssetRegistry (grants REVIEWER). "
        "Default: the deploying account.", show_default=False,
    ),
    base_token_uri: str = typer.Option("", "--base-token-uri", help="Base URI of the asset tokens' metadata."),
    force: bool = typer.Option(
        False, "--force", help="Deploy a new set even if the record already has live contracts on this chain.",
    ),
    chain_id: int | None = CHAIN_ID,
    confirmations: int | None = typer.Option(
        None, "--confirmations", help="Blocks to wait on top of each deployment transaction (default "
        "DATASEAL_CONFIRMATIONS or 0). Not waited for on the embedded chain: one block producer, no "
        "reorganisations, so a mined block is final.",
        show_default=False,
    ),
    data_dir: Path | None = DATA_DIR,
    as_json: bool = JSON,
) -> None:
    """Deploy AssetRegistry, GrantRegistry and TransactionLedger to a node, and record where they are.

    The account signs locally (its key never leaves this process) and pays for gas: about 9.4 million gas
    in all (three transactions). The record goes to <data-dir>/deployments.json under the node's chain id; every other
    command finds the contracts there. Deploying again to a chain that has live contracts needs --force.
    The embedded chain needs no deploy: `dataseal node` does it at its first start.

    The deployment constants are fixed for the contracts' life: the notice period (review mode), whether
    registrations need a commitment first (against front-running; on by default except on local development
    chains), and the admin handover delay. Durations take 15d, 36h, 90m, 900s or plain seconds.

    \b
    Examples:
      # a local hardhat node, an account imported from its list (no commitments needed there)
      dataseal account import ./deployer.key --password-file ./pw.txt
      dataseal deploy --rpc http://127.0.0.1:8545 --password-file ./pw.txt --chain-id 31337
      # a public network, with Shanghai's 15 days of public notice (commitments on by default)
      dataseal deploy --rpc https://rpc.example.org --chain-id 11155111 --review-mode
      # a consortium chain: 36 hours of notice, commitments 2 minutes to 12 hours old, 2-day admin delay
      dataseal deploy --rpc https://node.example.org --notice-period 36h --commit-min-age 2m \\
        --commit-max-age 12h --admin-delay 2d
    """
    cfg = settings(rpc_url=rpc, account=account, password_file=password_file, chain_id=chain_id,
                   confirmations=confirmations, data_dir=data_dir)
    if admin is not None and not is_address(admin):
        raise typer.BadParameter(f"{admin!r} is not an address (0x followed by 40 hex digits)", param_hint="--admin")
    if admin is not None and int(admin, 16) == 0:
        raise typer.BadParameter("the zero address cannot hold the admin role (nobody could grant REVIEWER or hand "
                                 "the role over): give a real account, or leave it out for the deploying one",
                                 param_hint="--admin")
    notice = _notice(review_mode, notice_period)
    delay = parse_duration(admin_delay, "--admin-delay")
    ages = (parse_duration(commit_min_age, "--commit-min-age") if commit_min_age is not None else None,
            parse_duration(commit_max_age, "--commit-max-age") if commit_max_age is not None else None)
    if commits is False and ages != (None, None):
        raise typer.BadParameter("commitment ages need commitments: drop --no-commits or the ages",
                                 param_hint="--commit-min-age/--commit-max-age")
    if commits is None and ages != (None, None):
        commits = True  # explicit ages ask for commitments, on a development chain too
    # checked before connecting (a DeploymentError when the ages or a limit do not fit); commitments dropped
    # below when the chain turns out to be a development chain and neither --commits nor an age was given
    config = ContractConfig(notice, *(
        (0, 0) if commits is False else
        (DEFAULT_MIN_COMMIT_AGE if ages[0] is None else ages[0], DEFAULT_MAX_COMMIT_AGE if ages[1] is None else ages[1])
    ), admin_delay=delay)

    def starting(address: str, balance: int) -> None:
        note(f"deploying from {address} ({eth(balance)}) to chain {context.connection.chain_id} at "
             f"{context.connection.endpoint} ...")
        if commits is None and not config.commit_required:  # off by default on a development chain: say so
            note(f"note: chain {context.connection.chain_id} is a local development chain: registrations need no "
                 "commitment (--commits to require them)")

    deploy_target(cfg)  # before connecting: without an RPC URL there is no node to deploy to
    with Context.open(cfg) as context:
        node_chain = context.connection.chain_id
        required = commitments_by_default(node_chain) if commits is None else commits
        if not required and commitments_by_default(node_chain):
            note(f"warning: chain {node_chain} is not a local development chain, and --no-commits lets anyone who "
                 "sees a registration waiting in the mempool register its content root first (front-running)")
        if not required:
            config = replace(config, min_commit_age=0, max_commit_age=0)
        done = context.deploy(admin=admin, config=config, base_token_uri=base_token_uri, force=force,
                              passwords=[TerminalPrompt()], starting=starting)
    deployment, path, replaced = done.deployment, done.record, done.replaced
    old, gone = done.replaced_contracts, done.gone_contracts

    def human() -> None:
        print(f"chain {deployment.chain_id}, block {deployment.deploy_block}")
        for name, address in deployment.addresses().items():
            print(f"{name:<18} {address}")
        print(describe_config(deployment.config))
        pre_v2 = "" if replaced is not None else " (from before contracts v2)"
        if old:
            at = old.get("AssetRegistry", ", ".join(f"{name} {address}" for name, address in old.items()))
            note(f"recorded in {path}, replacing the set at {at}{pre_v2}: the registrations made under it stay there")
        elif gone:
            at = gone.get("AssetRegistry", ", ".join(f"{name} {address}" for name, address in gone.items()))
            note(f"recorded in {path}; the old record{pre_v2} pointed at contracts no longer on this chain (the set "
                 f"at {at})")
        else:
            note(f"recorded in {path}")

    emit({"deployment": deployment.to_json(), "record": str(path),
          "replaced": replaced.to_json() if replaced else None, "replaced_contracts": old or None,
          "gone_contracts": gone or None}, as_json, human)


def _notice(review_mode: bool, notice_period: str | None) -> int:
    if notice_period is None:
        return DEFAULT_NOTICE_PERIOD if review_mode else 0
    seconds = parse_duration(notice_period, "--notice-period")
    if review_mode and seconds == 0:
        raise typer.BadParameter("--review-mode needs a notice period above 0", param_hint="--notice-period")
    return seconds


def register(app: typer.Typer) -> None:
    app.command("deploy")(deploy)
