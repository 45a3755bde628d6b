"""The public pages' words, in English and Chinese, and which of the two a request is answered in.

A page is in the language its ``lang`` query parameter names (``en`` or ``zh``), else the first of the request's
Accept-Language that is one of them, else English. The names the certificate already translates (statuses, rights,
classification levels, chains) are its own (:mod:`dataseal.registry.certificates.render`), so that a page and a
certificate never say the same thing two ways. What the registry says of an error or a trail entry is English:
the page heads it with its own words in the reader's language.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

from dataseal.registry.certificates.model import CLASSIFICATIONS
from dataseal.registry.certificates.render import CHAINS, CLASSIFICATION, LABELS, RIGHTS, STATUS

Lang = Literal["en", "zh"]
LANGS: Final[tuple[Lang, ...]] = ("en", "zh")
#: The value of ``<html lang>`` for each language.
HTML_LANG: Final[dict[Lang, str]] = {"en": "en", "zh": "zh-CN"}

#: key -> (English, Chinese).
WORDS: Final[dict[str, tuple[str, str]]] = {
    "site": ("dataseal registry", "dataseal 数据资产登记"),
    "tagline": ("Data assets registered on a blockchain: look one up, read its trail, check a file.",
                "在区块链上登记的数据资产：查询登记记录、查看全程留痕、核验文件。"),
    "skip": ("Skip to the content", "跳到正文"),
    "nav_search": ("Search", "查询"),
    "nav_verify": ("Verify a file", "核验文件"),
    "nav_api": ("API", "接口文档"),
    "other_lang": ("中文", "English"),
    "search_label": ("Asset id, content root, certificate number, registration number or owner address",
                     "资产编号、内容根、证书编号、登记号或权利人地址"),
    "search_button": ("Look up", "查询"),
    "search_examples": ("For example: 7 · 0x6f3c…d5 (a content root) · DS-… (a certificate number) · "
                        "2025-31337-00000007-3 (a registration number) · 0x5B38…dC4 (an owner)",
                        "例如：7 · 0x6f3c…d5（内容根）· DS-…（证书编号）· 2025-31337-00000007-3（登记号）· "
                        "0x5B38…dC4（权利人）"),
    "home_verify": ("Have the file? Check that it is the registered one: it is hashed in your browser and never "
                    "uploaded.", "手中有数据文件？可核验它是否就是登记的那一份：文件在浏览器中计算哈希，不会上传。"),
    "home_verify_link": ("Verify a file or an evidence bundle", "核验文件或证据包"),
    "home_trust": ("Every answer here is read from the blockchain. You need not trust this site: the command-line "
                   "tool `dataseal` checks the same against any node of the chain.",
                   "本站的每项答复都读自区块链。您不必信任本站：命令行工具 dataseal 可对照该链的任一节点自行核验。"),
    "results_for": ("Assets matching", "查询结果"),
    "no_results": ("No asset matches.", "没有符合的资产。"),
    "owner_assets": ("Assets owned by", "权利人持有的资产"),
    "next_page": ("Next page", "下一页"),
    # the asset page
    "asset": ("Asset", "资产"),
    "untitled": ("(no title: this registry does not hold the manifest)", "（无名称：本登记处未收到其数据清单）"),
    "record": ("The record", "登记记录"),
    "status": ("Status", "状态"),
    "owner": ("Owner", "权利人"),
    "registrant": ("Registrant", "登记主体"),
    "rights": ("Rights registered", "登记权利类型"),
    "classification": ("Classification", "数据分级"),
    "registered_at": ("Registered", "登记时间"),
    "valid_until": ("Valid until", "有效期至"),
    "no_end": ("no end on chain", "链上未设期限"),
    "notice": ("Public notice", "公示期"),
    "notice_until": ("until", "至"),
    "notice_none": ("none (registered without review)", "无（未启用审查）"),
    "objections": ("Objections", "异议"),
    "objection_by": ("by", "提出人"),
    "no_objections": ("none", "无"),
    "registration_number": ("Registration No.", "登记号"),
    "content_root": ("Content root (Merkle)", "内容根（默克尔根）"),
    "manifest_hash": ("Manifest hash", "清单哈希"),
    "chain": ("Chain", "链"),
    "contract": ("Registry contract", "登记合约"),
    "data": ("The data", "数据"),
    "content": ("Content", "内容"),
    "data_file": ("a file of {size} in chunks of {chunk}", "文件，{size}，按 {chunk} 分块"),
    "data_table": ("a table ({format}) of {rows} rows, a leaf a row", "表格（{format}），{rows} 行，每行一个叶子"),
    "data_folder": ("a folder of {files} files, {size}", "文件夹，{files} 个文件，{size}"),
    "description": ("Description", "描述"),
    "licence": ("Licence", "许可"),
    "source": ("Source", "数据来源"),
    "lineage": ("Lineage", "沿革"),
    "parent": ("Parent", "上级资产"),
    "lineage_Version": ("a new version of", "新版本，源自"),
    "lineage_Derived": ("derived from", "派生自"),
    "children": ("Versions and derived assets", "新版本与派生资产"),
    "no_children": ("none registered", "暂无"),
    "verify_this": ("Verify a file against this asset", "用本资产核验文件"),
    "certificate": ("Certificate", "证书"),
    "certificate_print": ("Its certificate as of now", "按当前状态出具的证书"),
    "cert_heading": ("Certificate {number}", "证书 {number}"),
    "cert_intro": ("A genuine certificate with this number states exactly what follows, read from the chain as "
                   "of block {block}. Compare each field with the certificate in front of you.",
                   "凡编号为此的真实证书，所载内容与下列各项完全一致（读自链上第 {block} 号区块时的状态）。"
                   "请逐项与您手中的证书核对。"),
    "cert_field": ("Field", "项目"),
    "cert_value": ("On chain as of the certificate's block", "证书所据区块时的链上记录"),
    "cert_now": ("Now", "当前"),
    "cert_holds": ("The certificate still holds: nothing on chain has changed what it states.",
                   "证书仍然有效：链上没有任何变化影响其所载内容。"),
    "cert_lapsed": ("The certificate no longer holds, since:", "证书已不再成立，原因："),
    "cert_check_file": ("Have the certificate's JSON file? Drop it on the verify page to check every field, "
                        "the manifest and both numbers.", "持有证书的 JSON 文件？将其拖到核验页，可逐项核验全部字段、"
                        "数据清单及两个编号。"),
    "same": ("unchanged", "未变"),
    "changed": ("changed", "已变"),
    "trail": ("The trail", "全程留痕"),
    "trail_intro": ("Everything that happened to this asset, in chain order, as indexed up to block {block}.",
                    "该资产发生的全部事项，按链上顺序排列（索引至第 {block} 号区块）。"),
    "trail_empty": ("No event of this asset is indexed yet.", "尚未索引到该资产的事件。"),
    "trail_end": ("No more events.", "没有更多事件。"),
    "block": ("block", "区块"),
    "tx": ("transaction", "交易"),
    "downloads": ("Download the whole trail", "下载全程留痕"),
    "download_json": ("JSON", "JSON"),
    "download_csv": ("CSV (a spreadsheet)", "CSV（表格）"),
    "download_prov": ("W3C PROV-JSON", "W3C PROV-JSON"),
    "grants": ("Grants and usage", "授权与使用"),
    "grants_intro": ("Units used as indexed up to block {block}; each grant's standing at the chain's latest block.",
                     "已用单位数按索引至第 {block} 号区块计；各项授权的状态按链上最新区块判断。"),
    "grants_none": ("No grant of this asset is indexed.", "尚未索引到该资产的授权。"),
    "grant": ("Grant", "授权"),
    "grantee": ("Grantee", "被授权方"),
    "purpose": ("Purpose", "用途"),
    "window": ("Valid", "期限"),
    "units_used": ("{used} of {quota} units used", "已用 {used} / {quota} 单位"),
    "grant_Active": ("active", "有效"),
    "grant_Revoked": ("revoked", "已撤销"),
    "grant_Expired": ("expired", "已到期"),
    "grant_NotYetValid": ("not yet valid", "尚未生效"),
    "grant_UsedUp": ("quota used up", "额度已用完"),
    "grant_AssetInactive": ("not usable: the asset is not active", "不可用：资产非有效状态"),
    "purpose_unknown": ("(text not recorded here)", "（本登记处未记录其文字）"),
    "more_grants": ("Showing the first {shown} of {total} grants.", "仅显示前 {shown} 项授权，共 {total} 项。"),
    # the verify page
    "verify_title": ("Verify a file or a document", "核验文件或文档"),
    "verify_file": ("Is this file the registered one?", "这个文件是登记的那一份吗？"),
    "verify_file_intro": ("Your browser hashes the file in chunks (SHA-256) and sends only the chunk digests: the "
                          "file itself never leaves this computer.",
                          "浏览器按块计算文件的 SHA-256 摘要，只发送各块摘要：文件本身不会离开您的电脑。"),
    "verify_limit": ("A digest can be matched by anyone who can guess what was hashed: a file of a few bytes, or a "
                     "last chunk of a few bytes, is best checked with the command line (dataseal verify FILE), which "
                     "sends nothing of it.",
                     "任何能猜出被哈希内容的人都能比对摘要：只有几个字节的文件，或最后一块只有几个字节时，最好用命令行核验"
                     "（dataseal verify 文件），它不会发送文件的任何内容。"),
    "verify_name_sent": ("Checked against no asset in particular, the file's name is sent too, to find the versions "
                         "registered under it.", "未指定核验对象时，还会发送文件名，用于查找以该名称登记的版本。"),
    "verify_for_asset": ("Checked against", "核验对象："),
    "choose_file": ("Choose a file", "选择文件"),
    "drop_file": ("…or drop it here (or press Enter to choose one)", "……或拖放到这里（或按回车键选择）"),
    "chunk_size": ("Chunk size in bytes (as the data was sealed; 1 MiB unless its manifest says otherwise)",
                   "分块大小（字节；按登记时的设置，除清单另有说明外为 1 MiB）"),
    "advanced": ("Chunking", "分块设置"),
    "check": ("Check", "核验"),
    "verify_document": ("Check an evidence bundle, a proof or a certificate", "核验证据包、证明或证书"),
    "verify_document_intro": ("A JSON document dataseal wrote: its Merkle proofs are checked, then its record "
                              "against the chain.",
                              "由 dataseal 生成的 JSON 文档：先核验其默克尔证明，再对照链上记录。"),
    "choose_document": ("Choose a document", "选择文档"),
    "drop_document": ("…or drop an evidence bundle, proof or certificate here", "……或将证据包、证明或证书拖放到这里"),
    "noscript": ("These checks run in your browser and need JavaScript. Without it, the command-line tool does the "
                 "same: dataseal verify FILE, dataseal check BUNDLE.",
                 "这些核验在浏览器中进行，需要启用 JavaScript。也可使用命令行工具：dataseal verify 文件、"
                 "dataseal check 证据包。"),
    # errors
    "error_title_400": ("This request could not be read", "请求无法识别"),
    "error_title_404": ("Not found", "未找到"),
    "error_title_409": ("Refused in the current state", "当前状态下无法处理"),
    "error_title_413": ("Too large", "内容过大"),
    "error_title_503": ("The registry cannot reach its chain or database", "登记处暂时无法访问区块链或数据库"),
    "error_title_500": ("Something went wrong on this registry's side", "登记处内部出错"),
    "what_to_do": ("What to do", "建议"),
    "error_details": ("The registry's words", "登记处的说明"),
    "back_home": ("Search again", "重新查询"),
    # the footer
    "footer": ("Chain {chain_id} · AssetRegistry {contract}. The chain is the source of truth: check anything here "
               "with dataseal against a node of that chain.",
               "链 {chain_id} · 登记合约 {contract}。以区块链记录为准：可使用 dataseal 对照该链的节点"
               "核验本站任何内容。"),
}

#: Trail events, by their contract event name: (English, Chinese).
EVENTS: Final[dict[str, tuple[str, str]]] = {
    "AssetRegistered": ("Registered", "登记"),
    "AssetStatusChanged": ("Status changed", "状态变更"),
    "ObjectionFiled": ("Objection filed", "提出异议"),
    "AssetRenewed": ("Renewed", "续期"),
    "Transfer": ("Transferred", "转让"),
    "Mint": ("Ownership token issued to the registrant", "向登记主体发放权属凭证"),
    "GrantCreated": ("Grant made", "授权"),
    "GrantRevoked": ("Grant revoked", "撤销授权"),
    "UsageRecorded": ("Usage recorded", "使用记录"),
    "UsageBatchRecorded": ("Usage recorded (batch)", "使用记录（批量）"),
    "TradeRecorded": ("Trade recorded", "交易记录"),
    "BatchAnchored": ("Anchored in a batch", "批量锚定"),
    "RootReserved": ("Content root reserved", "预留内容根"),
    "Approval": ("Transfer approved", "授权转让"),
}


def choose_lang(query: str | None, accept_language: str | None) -> Lang:
    """The language to answer in: ``query`` (the ``lang`` parameter) when it is one, else the first of
    ``accept_language`` (``zh-CN,zh;q=0.9,en;q=0.8``) that is, by weight, else English."""
    if query in LANGS:
        return query  # type: ignore[return-value]
    ranked: list[tuple[float, int, Lang]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        primary = tag.strip().lower().split("-", 1)[0]
        if primary in LANGS and weight > 0:
            ranked.append((-weight, position, primary))  # type: ignore[arg-type]
    return min(ranked)[2] if ranked else "en"


class Words:
    """The words of one language, for a template: ``t("key")``, ``t("key", n=3)`` formatted; the names the
    certificate translates through ``label()``, ``status()``, ``rights()``, ``classification()``, ``chain()``;
    trail events through ``event()``."""

    def __init__(self, lang: Lang) -> None:
        self.lang = lang
        self.index = LANGS.index(lang)
        self.html_lang = HTML_LANG[lang]
        self.other = LANGS[1 - self.index]

    def __call__(self, key: str, **values: object) -> str:
        text = WORDS[key][self.index]
        return text.format(**values) if values else text

    def _named(self, table: Mapping[str, tuple[str, str]], name: str) -> str:
        pair = table.get(name)
        # the certificate's tables are (Chinese, English); a name none of them knows is shown as it is
        return name if pair is None else pair[1 - self.index]

    def label(self, key: str) -> str:
        """A certificate field's label, as the certificate prints it."""
        return self._named(LABELS, key)

    def status(self, name: str) -> str:
        return self._named(STATUS, name)

    def rights(self, name: str) -> str:
        return self._named(RIGHTS, name)

    def classification(self, name: str) -> str:
        return self._named(CLASSIFICATION, name)

    def classification_level(self, level: int) -> str:
        """A classification level by its number on chain (0 public … 3 core)."""
        return self.classification(CLASSIFICATIONS[level]) if 0 <= level < len(CLASSIFICATIONS) else str(level)

    def chain(self, chain_id: int) -> str:
        pair = CHAINS.get(chain_id)
        return f"{chain_id}" if pair is None else f"{chain_id} ({pair[1 - self.index]})"

    def event(self, name: str, args: Mapping[str, object] | None = None) -> str:
        """A trail event's name (``args``: its arguments; a transfer from no one is the token's issue)."""
        if name == "Transfer" and args is not None and args.get("from_address") == "0x" + "0" * 40:
            name = "Mint"
        pair = EVENTS.get(name)
        return name if pair is None else pair[self.index]
