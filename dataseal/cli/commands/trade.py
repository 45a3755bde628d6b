"""`dataseal trade offer | sign | record`: a sale of an asset or of a licence, countersigned by the buyer."""
from __future__ import annotations

from pathlib import Path

import typer
from eth_utils import keccak

from dataseal.chain.contracts.revert import format_time
from dataseal.chain.files import open_output
from dataseal.cli.options import ACCOUNT, CHAIN_ID, DATA_DIR, PASSWORD_FILE, RPC, settings
from dataseal.cli.output import JSON, emit, note
from dataseal.cli.prompt import TerminalPrompt
from dataseal.registry.prices import format_price
from dataseal.registry.registry import Registry
from dataseal.registry.services.trades import (
    LicenceOffer,
    TradeError,
    offer_trade,
    read_offer,
    read_signature,
    record_trade,
    sign_offer,
)

trade_app = typer.Typer(
    name="trade", no_args_is_help=True, rich_markup_mode=None,
    help="Sell an asset (transfer) or a licence to use it, in three steps: the seller writes the offer, the buyer "
    "signs it with their own account, the seller records it on chain (settled in the same transaction).",
)

SETTLEMENT = typer.Option(None, "--settlement", metavar="FILE", show_default=False,
                          help="The settlement document (contract, invoice); the chain records its keccak256.")
SCOPE = typer.Option(None, "--scope", metavar="FILE", show_default=False,
                     help="Licence: the rows, chunks or files covered (as for `dataseal grant`).")
OFFER_OUT = typer.Option(..., "-o", "--out", metavar="FILE", help="Where to write the offer.", show_default=False)
OFFER_FILE = typer.Argument(..., metavar="OFFER", help="The offer file.", show_default=False)
SIGNATURE_OUT = typer.Option(..., "-o", "--out", metavar="FILE", help="Where to write the signature.",
                             show_default=False)
SIGNATURE_FILE = typer.Option(..., "--signature", metavar="FILE", help="The buyer's signature file.",
                              show_default=False)

@trade_app.command("offer")
def offer_command(
    asset: int = typer.Argument(..., metavar="ASSET", help="The asset's id.", show_default=False),
    buyer: str = typer.Argument(..., metavar="BUYER", help="The buyer's account (0x address).", show_default=False),
    price: int = typer.Option(..., "--price", metavar="N", help="Price as a whole number of the currency's "
                              "smallest unit, as the chain records it: fen for CNY, cents for USD (--price 500000 "
                              "--currency CNY is 5,000.00 CNY). Output shows the amount with the currency's ISO 4217 "
                              "decimals and this number beside it.", show_default=False),
    currency: str = typer.Option("CNY", "--currency", metavar="CODE", help="Currency code (at most 32 bytes)."),
    settlement: Path | None = SETTLEMENT,
    settlement_hash: str | None = typer.Option(None, "--settlement-hash", metavar="HEX", help="Its keccak256, when "
                                               "the document is not at hand.", show_default=False),
    licence_purpose: str | None = typer.Option(
        None, "--licence", metavar="PURPOSE", help="Sell a licence for this purpose instead of the asset itself: the "
        "buyer gets a grant (with --from, --until, --quota, --scope).", show_default=False),
    valid_from: str = typer.Option("now", "--from", metavar="WHEN", help="Licence: start of the window."),
    until: str | None = typer.Option(None, "--until", metavar="WHEN", help="Licence: end of the window (a duration "
                                     "counts from its start).", show_default=False),
    quota: int | None = typer.Option(None, "--quota", metavar="N", help="Licence: usage units.", show_default=False),
    scope: Path | None = SCOPE,
    deadline: str = typer.Option("7d", "--deadline", metavar="WHEN", help="Last moment the buyer's signature may "
                                 "be recorded (a duration counts from now, by the chain's clock)."),
    out: Path = OFFER_OUT,
    force: bool = typer.Option(False, "--force", help="Replace FILE if it exists."),
    rpc: str | None = RPC,
    chain_id: int | None = CHAIN_ID,
    data_dir: Path | None = DATA_DIR,
    as_json: bool = JSON,
) -> None:
    """Write the terms of a sale of ASSET to BUYER, for the buyer to sign (no transaction; no password).

    The price is given and recorded in the currency's smallest unit (fen, cents): 5,000.00 CNY is --price 500000.

    \b
    Examples:
      dataseal trade offer 1 0xB0b... --price 5000000 --settlement contract.pdf -o offer.json
      dataseal trade offer 1 0xB0b... --price 990000 --settlement invoice.pdf --licence "risk model training" \\
        --until 365d --quota 10000 -o offer.json
    """
    if (settlement is None) == (settlement_hash is None):
        raise typer.BadParameter("give one of --settlement FILE and --settlement-hash HEX", param_hint="--settlement")
    if settlement is not None:
        try:
            digest: bytes | str = keccak(settlement.read_bytes())
        except OSError as exc:
            raise TradeError(f"cannot read the settlement document {settlement}: {exc.strerror or exc}",
                             hint="check the path") from None
    else:
        digest = str(settlement_hash)
    licence = None
    if licence_purpose is not None:
        if until is None or quota is None:
            raise typer.BadParameter("a licence needs --until and --quota", param_hint="--licence")
        licence = LicenceOffer(licence_purpose, valid_from, until, quota, scope)
    elif until is not None or quota is not None or scope is not None:
        raise typer.BadParameter("--until, --quota and --scope are a licence's terms: give --licence PURPOSE too",
                                 param_hint="--licence")
    cfg = settings(rpc_url=rpc, chain_id=chain_id, data_dir=data_dir)
    with Registry.open(cfg) as registry:
        offer = offer_trade(registry, asset, buyer, price, currency, digest, licence=licence, deadline=deadline)
    with open_output(out, replace=force, what="offer file", options=("out",)) as stream:
        stream.write(offer.to_text().encode("utf-8"))

    def human() -> None:
        what = f"a licence ({offer.licence.purpose!r})" if offer.licence else "the asset"
        print(f"offer {offer.hash_hex}: {what} of asset {offer.asset_id} to {offer.buyer} for "
              f"{format_price(offer.price, offer.currency)}, to be signed by {format_time(offer.deadline)}")
        note(f"written to {out}; the buyer signs it: dataseal trade sign {out} -o signature.json")

    emit({"offer_hash": offer.hash_hex, "path": str(out), "offer": offer.to_json_data()}, as_json, human)


@trade_app.command("sign")
def sign_command(
    offer_file: Path = OFFER_FILE,
    out: Path = SIGNATURE_OUT,
    force: bool = typer.Option(False, "--force", help="Replace FILE if it exists."),
    rpc: str | None = RPC,
    account: str | None = ACCOUNT,
    password_file: Path | None = PASSWORD_FILE,
    chain_id: int | None = CHAIN_ID,
    data_dir: Path | None = DATA_DIR,
    as_json: bool = JSON,
) -> None:
    """Countersign an offer as its buyer (EIP-712, with the buyer's next TransactionLedger nonce; no transaction).

    Read the offer first: signing agrees to its price, currency, settlement and licence terms.

    \b
    Examples:
      dataseal trade sign offer.json --account 0xB0b... -o signature.json
    """
    cfg = settings(rpc_url=rpc, account=account, password_file=password_file, chain_id=chain_id, data_dir=data_dir)
    offer = read_offer(offer_file)
    with Registry.open(cfg) as registry:
        signature = sign_offer(registry, offer, passwords=[TerminalPrompt()])
    with open_output(out, replace=force, what="signature file", options=("out",)) as stream:
        stream.write(signature.to_text().encode("utf-8"))

    def human() -> None:
        print(f"signed offer {offer.hash_hex} as {signature.buyer} (nonce {signature.nonce})")
        note(f"written to {out}; the seller records it: dataseal trade record {offer_file} --signature {out}")

    emit({"signature": signature.to_json_data(), "path": str(out)}, as_json, human)


@trade_app.command("record")
def record_command(
    offer_file: Path = OFFER_FILE,
    signature_file: Path = SIGNATURE_FILE,
    rpc: str | None = RPC,
    account: str | None = ACCOUNT,
    password_file: Path | None = PASSWORD_FILE,
    chain_id: int | None = CHAIN_ID,
    data_dir: Path | None = DATA_DIR,
    as_json: bool = JSON,
) -> None:
    """Record a countersigned offer on chain (the seller, or its TRADE operator): a transfer moves the asset to
    the buyer, a licence creates the buyer's grant. Running it again finds the trade on chain and sends nothing.

    \b
    Examples:
      dataseal trade record offer.json --signature signature.json
    """
    cfg = settings(rpc_url=rpc, account=account, password_file=password_file, chain_id=chain_id, data_dir=data_dir)
    offer, signature = read_offer(offer_file), read_signature(signature_file)
    with Registry.open(cfg) as registry:
        done = record_trade(registry, offer, signature, passwords=[TerminalPrompt()])
    record = done.record

    def human() -> None:
        verb = "was already recorded" if done.already_recorded else "recorded"
        print(f"trade {record.trade_id} {verb}: asset {record.asset_id} from {record.seller} to {record.buyer}, "
              f"{record.settlement.name.lower()}" + (f", grant {record.grant_id}" if record.grant_id else "")
              + f", for {format_price(record.price, offer.currency)}")
        print(f"tx       {record.tx.tx_hash} (block {record.tx.block_number})")

    emit(done.to_json(), as_json, human)


def register(app: typer.Typer) -> None:
    app.add_typer(trade_app)
