"""How the CLI renders an error of the library: one line, in the terminal's words.

A library error (:class:`dataseal.errors.DatasealError`) says what failed and what to do in words
that suit any front door, and names the settings or parameters that would change the outcome
(``options``). The CLI spells those the way a terminal user types them: ``rpc_url`` becomes
``--rpc URL or DATASEAL_RPC_URL``. An option this table does not know is left out (the API has
its own table), and ``tests/cli/test_errors.py`` checks that every option the library names is here.
For a few errors it also names the command that helps (``dataseal node`` when no node answers).
"""
from __future__ import annotations

from dataseal.chain.accounts.keystore import AccountNotFound
from dataseal.chain.errors import ContractsNotDeployed, NodeUnreachable, NoEmbeddedChain, OutdatedDeployment
from dataseal.errors import DatasealError
from dataseal.registry.audit.service import IndexEmpty

#: Options only the HTTP API takes, with no flag of the CLI (the API names them in its error answers as they are):
#: its request headers, path and query parameters and body fields (``tests/api/test_errors.py`` checks that every
#: option the API names is here or in OPTION_FLAGS).
HTTP_ONLY_OPTIONS: frozenset[str] = frozenset({
    # request headers (dataseal.api.security)
    "Authorization", "Idempotency-Key", "X-Dataseal-Address", "X-Dataseal-Signature", "X-Dataseal-Timestamp",
    # path parameters
    "asset_id", "grant_id", "leaf", "address",
    # query parameters
    "owner", "certificate", "registration", "format", "lang", "period", "name",
    # body fields (POST /verify/digests; POST /assets/{id}/ownership/proof)
    "digests", "size", "challenge", "signature",
    # the write routes' path parameters and body fields (dataseal.api.routes.writes, grant_writes)
    "operation_id", "operation", "expires_at", "leaves", "offer", "receipt", "salt", "scope_root",
})

#: option name (a Settings field, or a parameter of a library call) -> how a terminal user gives it

OPTION_FLAGS: dict[str, str] = {
    # settings (dataseal.registry.settings.Settings)
    "data_dir": "--data-dir or DATASEAL_DATA_DIR",
    "rpc_url": "--rpc URL or DATASEAL_RPC_URL",
    "account": "--account",
    "api_port": "--api-port",
    "password": "--password-file FILE or DATASEAL_PASSWORD",
    "chain_id": "--chain-id or DATASEAL_CHAIN_ID",
    "confirmations": "--confirmations or DATASEAL_CONFIRMATIONS",
    "receipt_timeout": "DATASEAL_RECEIPT_TIMEOUT",
    "rpc_timeout": "DATASEAL_RPC_TIMEOUT",
    "database_url": "DATABASE_URL",
    "api_secret": "DATASEAL_API_SECRET",
    # dataseal deploy
    "force": "--force",
    "replace_seal": "--force",  # dataseal register / version: replace a registered asset's seal beside the data
    # dataseal index
    "rebuild": "--rebuild",
    "poll_interval": "--poll-interval",
    # dataseal node
    "host": "--host",
    "port": "--port",
    "block_time": "--block-time",
    "allowed_hosts": "--allow-host NAME",
    "cors_origins": "--cors-origin URL",
    "dev": "--dev",
    "max_response_bytes": "--max-response-bytes",
    # sealing and proving
    "rows": "--rows",
    "table_format": "--format csv|jsonl|parquet",
    "chunk_size": "--chunk-size",
    "symlinks": "--symlinks refuse|skip|follow",
    "special": "--skip-special",
    "salt_secret": "--salt-secret FILE",
    "salt_context": "--salt-context TEXT",
    "chunk": "--chunk N",
    "row": "--row N",
    "file": "--file RELATIVE/PATH",
    "manifest": "--manifest FILE",
    "root": "--root HEX",
    "contract": "--contract ADDRESS",
    "out_dir": "-o/--out DIR",
    "out": "-o/--out FILE",
    # dataseal certificate
    "base_url": "--base-url URL or DATASEAL_BASE_URL",
    "language": "--lang zh|en|zh-en",
    # dataseal audit
    "limit": "--limit N",
    "after": "--after BLOCK:LOG",
    # the manifest's metadata (dataseal.registry.manifest.ManifestMetadata)
    "rights_type": "--rights LIST",
    # grants, usage and trades (dataseal.registry.services.grants, .usage, .trades)
    "grantee": "GRANTEE",
    "purpose": "--purpose TEXT",
    "valid_from": "--from WHEN",
    "until": "--until WHEN",
    "quota": "--quota N",
    "units": "--units N",
    "job_id": "--job ID",
    "result_hash": "--result-hash HEX or --result FILE",
    "buyer": "BUYER",
    "price": "--price N",
    "settlement": "--settlement FILE or --settlement-hash HEX",
    "deadline": "--deadline WHEN",
    "request": "--request ID",
    "grant": "--grant G",
    # dataseal account fund (dataseal.registry.services.accounts)
    "recipient": "ADDRESS",
    "amount": "--amount AMOUNT",
    "funder": "--from ACCOUNT",
    "notice_period": "--notice-period",
    "scope": "--scope FILE",
    "scope_proof": "--scope-proof FILE",
    "touched": "--touched LIST",
    # register, version, review (dataseal.registry.services.assets)
    "title": "--title TEXT",
    "classification": "--classification LEVEL",
    "valid_until": "--valid-until WHEN",
    "evidence": "--evidence FILE",
    "reserve_for": "--reserve-for ADDRESS",
    # dataseal api-key (dataseal.api.security)
    "name": "NAME",
}


#: error class -> the command that helps (the most specific class of an error wins)
COMMAND_ADVICE: dict[type[DatasealError], str] = {
    NodeUnreachable: "`dataseal node` starts the embedded chain",
    NoEmbeddedChain: "`dataseal node` creates it",
    ContractsNotDeployed: "`dataseal deploy --rpc URL` deploys them",
    OutdatedDeployment: "`dataseal deploy --rpc URL`, or `dataseal node` on the embedded chain",
    AccountNotFound: "`dataseal account list`, `account new` or `account import`",
    IndexEmpty: "`dataseal index` fills it",
}


def render(error: DatasealError) -> str:
    """``error`` as the one line the CLI prints after ``dataseal: error: ``: its message and hint, then
    in brackets the command that helps and the flags that change the outcome."""
    advice = [next((COMMAND_ADVICE[kind] for kind in type(error).__mro__ if kind in COMMAND_ADVICE), "")]
    advice += [OPTION_FLAGS[name] for name in error.options if name in OPTION_FLAGS]
    advice = [item for item in advice if item]
    text = " ".join(line.strip() for line in str(error).splitlines() if line.strip())  # one line, always
    return f"{text} [{'; '.join(advice)}]" if advice else text
