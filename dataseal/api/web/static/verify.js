/* dataseal's public verify page: checks a file without uploading it, and checks a dropped evidence bundle,
 * proof or certificate. Plain ES2020, no dependencies. It binds to the ids of verify.html.j2 (#verify-file,
 * #verify-document) and does nothing on a page without them. Every text it shows comes from MESSAGES in the
 * section's language; what the server says (error messages, checked lists) is shown as it comes. The DOM is
 * built with createElement/append only: file names and server answers never pass through an HTML parser. */
(() => {
  "use strict";

  const DEFAULT_CHUNK_SIZE = 1 << 20;
  const MAX_CHUNK_SIZE = 1 << 30; // the server's MAX_CHUNK_SIZE: refuse before hashing, not after
  // The digest of a chunk of a few bytes gives those bytes away (a table of every value of one byte inverts a 1-byte
  // chunk's): a page sends digests only of chunks whose size is a power of two from this. A link to a page of an
  // asset sealed in tiny chunks must not make a visitor's browser send their file digest by digest; and one sealed
  // in chunks of (file size - 1) must not make it send the digest of the file's last byte: with powers of two, the
  // last chunk is never shorter than it is in chunks of 4 KiB (size mod 4096), whatever chunk size a page names.
  const MIN_CHUNK_SIZE = 4096;
  // Nor is a last chunk of a few bytes sent (the file's last bytes, guessable from their digest): a file whose last
  // chunk would be shorter than this is checked with the command line (one chunk size in 16,000 meets it).
  const MIN_LAST_CHUNK = 64;
  const isSafeChunkSize = (size) => size >= MIN_CHUNK_SIZE && size <= MAX_CHUNK_SIZE && (size & (size - 1)) === 0;
  const MAX_DOCUMENT_BYTES = 64 << 20;
  const MAX_NAME_LENGTH = 255; // the server refuses longer names; the name only helps find versions, so omit it
  const DOCUMENT_ROUTES = new Map([ // a Map: a document's kind is data, never an inherited property's name
    ["dataseal.evidence", "/verify/bundle"],
    ["dataseal.proof", "/verify/proof"],
    ["dataseal.certificate", "/verify/certificate"],
  ]);

  // One entry per text, in the same order in both languages; {name} marks what is filled in.
  const MESSAGES = {
    en: {
      chooseFile: "Choose a file to check first.",
      badChunkSize: "The chunk size must be a power of two from {min} to {max} bytes (4,096, 8,192, … 1,048,576, …); "
        + "“{value}” is not. (Digests of other chunks could give parts of the file away: check such data with the "
        + "command line, dataseal verify FILE.)",
      emptyFile: "{name} is empty (0 bytes): there is nothing to check.",
      sealedAsTable: "Asset {asset} was sealed by rows, as a table: a browser check of one file's chunks cannot "
        + "reproduce that seal. Check the data with the command line: dataseal verify FILE.",
      sealedAsFolder: "Asset {asset} was sealed as a folder: a browser check of one file's chunks cannot "
        + "reproduce that seal. Check the data with the command line: dataseal verify FOLDER.",
      wrongSize: "The file is {size} bytes; asset {asset}'s data is {expected} bytes, so it cannot be asset {asset} "
        + "exactly. It is checked anyway, to show the nearest registered version.",
      hashing: "Hashed on this computer: {done} of {total} bytes ({percent}%)",
      asking: "Asking the registry (only the chunk digests are sent)…",
      readFailed: "The file could not be read: {reason}",
      assetName: "asset {id}",
      exact: "This file is {asset}, exactly",
      otherAsset: "This page was opened for asset {expected}; the file is asset {actual}.",
      nearest: "Not registered as it is. Nearest registered version: {asset}",
      notFound: "Not registered, and no registered version with this name or chunks was found",
      differing: "Differing {parts}: {count}",
      listedFirst: "The first {shown} of them:",
      chunkRange: "chunk {index}: bytes {start}–{end}",
      partItem: "{part} {index}",
      added: "{parts} only in this file (added): {count}",
      removed: "{parts} only in the registered version (removed): {count}",
      parts: { chunk: "chunks", row: "rows", file: "files" },
      statuses: { Pending: "pending (public notice)", Active: "active", Suspended: "suspended", Cancelled: "cancelled",
        Rejected: "rejected", Disputed: "disputed", Expired: "expired" },
      shortLastChunk: "In chunks of {chunk} bytes, this file's last chunk is {last} bytes: its digest could give "
        + "those bytes away, so this page does not send it. Check the file with the command line, which sends nothing "
        + "of it: dataseal verify FILE.",
      smallChunks: "Asset {asset} was sealed in chunks of {chunk} bytes. This page sends digests only of chunks whose "
        + "size is a power of two from 4,096 bytes: digests of other chunks could give parts of the file away. Check "
        + "the file with the command line, which sends nothing of it: dataseal verify FILE.",
      status: "Status", owner: "Owner", contentRoot: "Content root", sizeLabel: "Size",
      computedRoot: "Content root of this file (computed here)",
      sizeValue: "{size} bytes, {count} chunks of {chunk} bytes",
      refused: "The registry did not accept the request",
      hint: "What to do: {hint}",
      unreachable: "The registry could not be reached",
      unreachableHint: "Nothing was checked. Check the connection and try again.",
      unreadable: "The registry answered HTTP {status} in a form this page cannot read",
      tooLarge: "{name} is {size} bytes, more than the {limit} bytes a document may be: it was not read.",
      notJson: "This file is not JSON: {reason}",
      wrongKind: "This document's kind is “{kind}”, which this page does not check.",
      noKind: "This JSON document has no kind, so this page cannot tell what it is.",
      acceptedKinds: "Accepted kinds: dataseal.evidence (an evidence bundle), dataseal.proof (a proof), "
        + "dataseal.certificate (a certificate).",
      checking: "Checking {name}…",
      evidenceOk: "The evidence bundle checks out", evidenceBad: "The evidence bundle does not check out",
      proofOk: "The proof checks out", proofBad: "The proof does not check out",
      certificateOk: "The certificate matches the chain and still holds",
      certificateBad: "The certificate does not hold",
      failed: "What failed: {message}",
      root: "Root", subject: "Subject", checked: "Checked", notChecked: "Not checked", warnings: "Warnings",
      registration: "Registration",
      registeredAs: "{asset}: {status}, owner {owner}",
      chainNow: "On chain now",
      chainValue: "status {status}; still holds the root: {holds}; trusted as {trusted}",
      yes: "yes", no: "no", none: "—",
      viewAsset: "See the record of {asset}",
      certificate: "Certificate {number} of {asset}",
      mismatches: "Fields the chain contradicts",
      field: "Field", certificateSays: "The certificate says", chainSays: "The chain says", reason: "Reason",
      lapses: "Changes since which it no longer holds",
      change: "What changed", block: "Block", transaction: "Transaction",
      now: "Standing now (block {block})",
      validUntil: "Valid until",
    },
    zh: {
      chooseFile: "请先选择要核验的文件。",
      badChunkSize: "分块大小必须是 {min} 到 {max} 字节之间的 2 的幂（4,096、8,192……1,048,576……）；“{value}”不符合。"
        + "（其他分块的摘要可能泄露文件的部分内容；此类数据请用命令行核验：dataseal verify 文件。）",
      emptyFile: "{name} 是空文件（0 字节），没有可核验的内容。",
      sealedAsTable: "资产 {asset} 是按行（作为表格）封存的：浏览器按单个文件分块核验无法复现这种封存。"
        + "请用命令行核验数据：dataseal verify 文件。",
      sealedAsFolder: "资产 {asset} 是作为文件夹封存的：浏览器按单个文件分块核验无法复现这种封存。"
        + "请用命令行核验数据：dataseal verify 文件夹。",
      wrongSize: "该文件为 {size} 字节；资产 {asset} 的数据为 {expected} 字节，因此不可能与资产 {asset} 完全一致。"
        + "仍将进行核验，以显示最接近的已登记版本。",
      hashing: "已在本机计算哈希：{done} / {total} 字节（{percent}%）",
      asking: "正在查询登记处（只发送分块摘要）…",
      readFailed: "无法读取该文件：{reason}",
      assetName: "资产 {id}",
      exact: "该文件与{asset}完全一致",
      otherAsset: "本页面针对资产 {expected}；该文件是资产 {actual}。",
      nearest: "该文件未按原样登记。最接近的已登记版本：{asset}",
      notFound: "未登记，也未找到同名或含相同分块的已登记版本",
      differing: "不同的{parts}：{count} 个",
      listedFirst: "其中前 {shown} 个：",
      chunkRange: "第 {index} 块：字节 {start}–{end}",
      partItem: "{part} {index}",
      added: "仅此文件有的{parts}（新增）：{count} 个",
      removed: "仅已登记版本有的{parts}（删除）：{count} 个",
      parts: { chunk: "块", row: "行", file: "文件" },
      statuses: { Pending: "公示中", Active: "有效", Suspended: "中止", Cancelled: "已注销", Rejected: "已驳回",
        Disputed: "异议中", Expired: "已过期" },
      shortLastChunk: "按每块 {chunk} 字节分块，此文件的最后一块只有 {last} 字节：其摘要可能泄露这些字节，因此本页不发送。"
        + "请使用命令行核验该文件（不会发送文件的任何内容）：dataseal verify 文件。",
      smallChunks: "资产 {asset} 登记时按每块 {chunk} 字节分块。本页只发送大小为 4,096 字节以上 2 的幂的分块摘要："
        + "其他分块的摘要可能泄露文件的部分内容。请使用命令行核验该文件（不会发送文件的任何内容）：dataseal verify 文件。",
      status: "状态", owner: "权利人", contentRoot: "内容根", sizeLabel: "大小",
      computedRoot: "此文件的内容根（在本机计算）",
      sizeValue: "{size} 字节，{count} 块，每块 {chunk} 字节",
      refused: "登记处未接受该请求",
      hint: "处理建议：{hint}",
      unreachable: "无法连接登记处",
      unreachableHint: "未进行任何核验。请检查网络连接后重试。",
      unreadable: "登记处返回了 HTTP {status}，但本页面无法读取其内容",
      tooLarge: "{name} 为 {size} 字节，超过文档上限 {limit} 字节：未读取该文件。",
      notJson: "该文件不是 JSON：{reason}",
      wrongKind: "该文档的类型为“{kind}”，本页面不核验此类文档。",
      noKind: "该 JSON 文档没有 kind 字段，本页面无法判断其类型。",
      acceptedKinds: "可核验的类型：dataseal.evidence（证据包）、dataseal.proof（证明）、"
        + "dataseal.certificate（证书）。",
      checking: "正在核验 {name}…",
      evidenceOk: "证据包核验通过", evidenceBad: "证据包核验未通过",
      proofOk: "证明核验通过", proofBad: "证明核验未通过",
      certificateOk: "证书与链上记录一致，且仍然有效",
      certificateBad: "证书核验未通过",
      failed: "未通过的检查：{message}",
      root: "根", subject: "对象", checked: "已核验", notChecked: "未核验", warnings: "警告",
      registration: "登记",
      registeredAs: "{asset}：{status}，权利人 {owner}",
      chainNow: "链上现状",
      chainValue: "状态 {status}；仍持有该根：{holds}；信任依据：{trusted}",
      yes: "是", no: "否", none: "—",
      viewAsset: "查看{asset}的登记记录",
      certificate: "{asset}的证书 {number}",
      mismatches: "与链上记录不符的字段",
      field: "字段", certificateSays: "证书所载", chainSays: "链上记录", reason: "原因",
      lapses: "此后使证书不再有效的变更",
      change: "变更", block: "区块", transaction: "交易",
      now: "当前状况（区块 {block}）",
      validUntil: "有效期至",
    },
  };

  // ------------------------------------------------------------------------------------------ language

  /** The texts of a section: say(key, params) gives the parts (strings and nodes) to append; text() joins them. */
  function speaker(section) {
    const lang = section.dataset.lang || document.documentElement.lang || "";
    const messages = lang.toLowerCase().startsWith("zh") ? MESSAGES.zh : MESSAGES.en;
    const locale = messages === MESSAGES.zh ? "zh-CN" : "en";
    const say = (key, params = {}) => fill(messages[key], params);
    return {
      say,
      text: (key, params) => say(key, params).join(""),
      bytes: (count) => count.toLocaleString(locale),
      part: (part) => messages.parts[part] ?? part,
      // an on-chain status in the reader's words, as the pages and the certificate say it (unknown ones as they are)
      status: (name) => (Object.hasOwn(messages.statuses, name ?? "") ? messages.statuses[name] : name),
    };
  }

  /** A template's text with each {name} replaced by params[name]: a node stays a node (a link inside a sentence,
   * in the language's word order); anything else becomes text. */
  function fill(template, params) {
    return template.split(/\{(\w+)\}/).map((piece, i) => {
      if (i % 2 === 0) return piece;
      const value = params[piece];
      return value instanceof Node ? value : String(value ?? "");
    });
  }

  // ------------------------------------------------------------------------------------------ DOM

  function el(tag, className, ...children) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    node.append(...children.flat(Infinity));
    return node;
  }

  const code = (value) => el("code", "", String(value));
  const verdict = (outcome, parts) => el("h3", `result ${outcome}`, parts);
  const paragraph = (parts) => el("p", "", parts);

  function list(items, render = (item) => String(item)) {
    return el("ul", "", items.map((item) => el("li", "", render(item))));
  }

  /** A <dl> of [label, value] pairs, skipping the pairs whose value is null. */
  function fields(pairs) {
    return el("dl", "", pairs.filter(([, value]) => value != null).map(([label, value]) => [
      el("dt", "", label), el("dd", "", value)]));
  }

  function table(columns, rows) {
    const head = el("tr", "", columns.map((column) => {
      const th = el("th", "", column);
      th.scope = "col";
      return th;
    }));
    return el("table", "", el("thead", "", head), el("tbody", "", rows.map((row) =>
      el("tr", "", row.map((cell) => el("td", "", cell ?? ""))))));
  }

  /** A link to an asset's page, keeping the language this page was asked in (?lang=). */
  function assetLink(section, speech, id) {
    const link = el("a", "", speech.say("assetName", { id }));
    const lang = new URLSearchParams(window.location.search).get("lang");
    const prefix = section.dataset.assetUrlPrefix || "/assets/";
    link.href = prefix + encodeURIComponent(id) + (lang ? `?lang=${encodeURIComponent(lang)}` : "");
    return link;
  }

  /** The elements of these ids, or null when one is missing (the script then leaves that part of the page be). */
  function byIds(ids) {
    const found = {};
    for (const [name, id] of Object.entries(ids)) {
      found[name] = document.getElementById(id);
      if (!found[name]) return null;
    }
    return found;
  }

  /** A drop zone acting as a button for its file input: click, Enter or Space opens the chooser; a dropped file
   * becomes the input's file (so the form sees it) and is handed to onFile. */
  function makeDropZone(zone, input, onFile) {
    zone.addEventListener("click", () => input.click());
    zone.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault(); // Space would scroll the page
        input.click();
      }
    });
    for (const type of ["dragenter", "dragover"]) {
      zone.addEventListener(type, (event) => {
        event.preventDefault(); // allows the drop
        zone.classList.add("dragover");
      });
    }
    zone.addEventListener("dragleave", (event) => {
      if (!zone.contains(event.relatedTarget)) zone.classList.remove("dragover"); // not when entering a child
    });
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      zone.classList.remove("dragover");
      const files = event.dataTransfer?.files;
      if (!files?.length) return;
      input.files = files;
      onFile(files[0]);
    });
  }

  /** A file dropped beside a drop zone would make the browser open it in place of this page: refuse it instead. */
  function keepMissedDropsOnPage() {
    for (const type of ["dragover", "drop"]) {
      window.addEventListener(type, (event) => {
        const files = event.dataTransfer?.types.includes("Files");
        const onFileInput = event.target instanceof HTMLInputElement && event.target.type === "file";
        if (!files || event.defaultPrevented || onFileInput) return;
        event.preventDefault();
        event.dataTransfer.dropEffect = "none";
      });
    }
  }

  /** Runs one check at a time: starting one cancels the previous (its fetch aborted, its later steps skipped),
   * so a second file chosen mid-way never interleaves its results with the first's. */
  function oneAtATime(check) {
    let current = null;
    return (...args) => {
      current?.abort();
      const run = new AbortController();
      current = run;
      const live = () => current === run;
      return check(...args, { live, signal: run.signal });
    };
  }

  // ------------------------------------------------------------------------------------------ requests

  /** POSTs a JSON text; the answer as {ok, status, answer} (answer null when it is not JSON), or {unreachable}. */
  async function postJson(url, body, signal) {
    let response;
    try {
      response = await fetch(url, {
        method: "POST", body, signal, credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
      });
    } catch {
      return { unreachable: true }; // a network failure (or this run was cancelled: its caller then says nothing)
    }
    const answer = await response.json().catch(() => null);
    return { ok: response.ok && answer !== null, status: response.status, answer };
  }

  /** What to show for a request that got no usable answer: unreachable, refused (the API's error contract), or
   * an answer this page cannot read (a proxy's HTML error page). */
  function failureOf(speech, reply) {
    if (reply.unreachable) {
      return [verdict("error", speech.say("unreachable")), paragraph(speech.say("unreachableHint"))];
    }
    const error = reply.answer?.error;
    if (error && typeof error.message === "string") {
      const shown = [verdict("error", speech.say("refused")), paragraph(error.message)];
      if (error.hint) shown.push(paragraph(speech.say("hint", { hint: error.hint })));
      return shown;
    }
    return [verdict("error", speech.say("unreadable", { status: reply.status }))];
  }

  // ------------------------------------------------------------------------------------------ SHA-256

  const sha256 = globalThis.crypto?.subtle
    ? (buffer) => crypto.subtle.digest("SHA-256", buffer)
    : async (buffer) => sha256Fallback(new Uint8Array(buffer));

  // crypto.subtle exists only in secure contexts (https, localhost): a registry served over plain http elsewhere
  // still gets its files checked by this FIPS 180-4 SHA-256.
  const K = new Uint32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
  ]);

  function sha256Fallback(bytes) {
    const state = new Uint32Array([
      0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
    const words = new Uint32Array(64);
    const whole = bytes.length - (bytes.length % 64);
    for (let offset = 0; offset < whole; offset += 64) compress(state, words, bytes, offset);
    // Only the last partial block is copied to be padded: 0x80, zeros, the length in bits (big-endian, 64 bits).
    const rest = bytes.length - whole;
    const tail = new Uint8Array(rest < 56 ? 64 : 128);
    tail.set(bytes.subarray(whole));
    tail[rest] = 0x80;
    const view = new DataView(tail.buffer);
    view.setUint32(tail.length - 8, Math.floor(bytes.length / 0x20000000)); // bits / 2^32
    view.setUint32(tail.length - 4, (bytes.length * 8) >>> 0);
    for (let offset = 0; offset < tail.length; offset += 64) compress(state, words, tail, offset);
    const out = new DataView(new ArrayBuffer(32));
    state.forEach((word, i) => out.setUint32(i * 4, word));
    return out.buffer;
  }

  const rotr = (x, n) => (x >>> n) | (x << (32 - n));

  function compress(state, w, bytes, offset) {
    for (let i = 0; i < 16; i++) {
      const j = offset + i * 4;
      w[i] = (bytes[j] << 24) | (bytes[j + 1] << 16) | (bytes[j + 2] << 8) | bytes[j + 3];
    }
    for (let i = 16; i < 64; i++) {
      const s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3);
      const s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1; // a Uint32Array keeps the sum modulo 2^32
    }
    let a = state[0], b = state[1], c = state[2], d = state[3], e = state[4], f = state[5], g = state[6];
    let h = state[7];
    for (let i = 0; i < 64; i++) { // plain variables, no array per round: this loop is the fallback's hot path
      const t1 = (h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b; b = a; a = (t1 + t2) | 0;
    }
    state[0] += a; state[1] += b; state[2] += c; state[3] += d;
    state[4] += e; state[5] += f; state[6] += g; state[7] += h;
  }

  const hex = (buffer) => "0x" + Array.from(new Uint8Array(buffer), (x) => x.toString(16).padStart(2, "0")).join("");

  // ------------------------------------------------------------------------------------------ file check

  function setUpFileCheck() {
    const ui = byIds({
      section: "verify-file", form: "file-form", input: "file-input", drop: "file-drop", chunk: "chunk-size",
      box: "file-progress-box", bar: "file-progress", barText: "file-progress-text", result: "file-result",
    });
    if (!ui) return false;
    const speech = speaker(ui.section);
    const check = oneAtATime((file, run) => checkFile(ui, speech, file, run));
    ui.input.addEventListener("change", () => { if (ui.input.files.length) check(ui.input.files[0]); });
    ui.form.addEventListener("submit", (event) => {
      event.preventDefault(); // the form has no action: the check happens here
      check(ui.input.files[0]);
    });
    makeDropZone(ui.drop, ui.input, check);
    return true;
  }

  /** The chunk size asked for, or null when it is not a whole number of bytes in the server's range. An empty
   * field means the page's default; text a number field cannot hold shows as badInput with an empty value. */
  function chunkSizeOf(ui) {
    const typed = ui.chunk.value.trim();
    if (typed === "" && !ui.chunk.validity.badInput) {
      return Number(ui.section.dataset.chunkSize) || DEFAULT_CHUNK_SIZE;
    }
    const size = /^\d+$/.test(typed) ? Number(typed) : NaN;
    return isSafeChunkSize(size) ? size : null;
  }

  async function checkFile(ui, speech, file, { live, signal }) {
    const { say } = speech;
    const show = (...nodes) => ui.result.replaceChildren(...nodes.flat());
    ui.box.hidden = true;
    const asset = ui.section.dataset.asset;
    const sealedAs = ui.section.dataset.sealedAs;
    if (sealedAs === "table" || sealedAs === "folder") {
      return show(verdict("error", say(sealedAs === "table" ? "sealedAsTable" : "sealedAsFolder", { asset })));
    }
    const sealedIn = Number(ui.section.dataset.chunkSize);
    if (asset && sealedIn && !isSafeChunkSize(sealedIn)) {
      return show(verdict("error", say("smallChunks", { asset, chunk: speech.bytes(sealedIn) })));
    }
    if (!file) return show(verdict("error", say("chooseFile")));
    const chunkSize = chunkSizeOf(ui);
    if (chunkSize === null) {
      const value = ui.chunk.validity.badInput ? "?" : ui.chunk.value;
      return show(verdict("error", say("badChunkSize", { value, min: speech.bytes(MIN_CHUNK_SIZE),
        max: speech.bytes(MAX_CHUNK_SIZE) })));
    }
    if (file.size === 0) return show(verdict("error", say("emptyFile", { name: file.name })));
    const last = file.size % chunkSize;
    if (file.size > chunkSize && last !== 0 && last < MIN_LAST_CHUNK) {
      return show(verdict("error", say("shortLastChunk",
        { last: speech.bytes(last), chunk: speech.bytes(chunkSize) })));
    }
    show();
    const expected = ui.section.dataset.expectedSize;
    if (asset && expected && Number(expected) !== file.size) {
      show(paragraph(say("wrongSize", { size: speech.bytes(file.size), expected: speech.bytes(Number(expected)),
        asset })));
    }

    const digests = await hashFile(ui, speech, file, chunkSize, live).catch((error) => {
      if (!live()) return null;
      ui.box.hidden = true;
      ui.result.append(verdict("error", say("readFailed", { reason: error.message || error.name })));
      return null;
    });
    if (!digests || !live()) return;
    ui.barText.textContent = speech.text("asking");
    // Only the digests leave this computer: never the file's bytes. The page's asset, when it was opened for one,
    // is what a file that is not exactly registered is compared with, and the file's name is not sent; without one,
    // the name finds the versions registered under it (the page says so).
    const against = /^[1-9][0-9]*$/.test(asset || "") ? Number(asset) : undefined;
    const name = against === undefined && Array.from(file.name).length <= MAX_NAME_LENGTH && file.name
      ? file.name : undefined;
    const body = JSON.stringify({ chunk_size: chunkSize, size: file.size, digests, name,
      asset_id: Number.isSafeInteger(against) ? against : undefined });
    const reply = await postJson("/verify/digests", body, signal);
    if (!live()) return;
    ui.box.hidden = true;
    ui.result.append(...(reply.ok ? fileVerdict(ui.section, speech, reply.answer, asset) : failureOf(speech, reply)));
  }

  /** The SHA-256 of each chunk, in order, as 0x-hex; null when the run was cancelled. Awaiting each chunk's read
   * keeps the page responsive, and reading a slice at a time keeps memory at one chunk whatever the file's size. */
  async function hashFile(ui, speech, file, chunkSize, live) {
    ui.bar.max = file.size;
    ui.bar.value = 0;
    ui.box.hidden = false;
    let shownPercent = -1;
    const digests = [];
    for (let start = 0; start < file.size; start += chunkSize) {
      const end = Math.min(start + chunkSize, file.size);
      const buffer = await file.slice(start, end).arrayBuffer();
      if (!live()) return null;
      digests.push(hex(await sha256(buffer)));
      if (!live()) return null;
      ui.bar.value = end;
      const percent = Math.floor((end * 100) / file.size);
      if (percent !== shownPercent) { // the text is a live region: say each percent once, not each chunk
        shownPercent = percent;
        ui.barText.textContent = speech.text("hashing",
          { done: speech.bytes(end), total: speech.bytes(file.size), percent });
      }
    }
    return digests;
  }

  /** The FileVerification answer: asset N exactly, the nearest version and what differs, or nothing found. */
  function fileVerdict(section, speech, answer, pageAsset) {
    const { say } = speech;
    if (answer.registered) {
      const shown = [verdict("ok", say("exact", { asset: assetLink(section, speech, answer.asset_id) }))];
      if (pageAsset && String(answer.asset_id) !== pageAsset) {
        shown.push(paragraph(say("otherAsset", { expected: pageAsset, actual: answer.asset_id })));
      }
      shown.push(fields([
        [say("status"), speech.status(answer.status)], [say("owner"), code(answer.owner)],
        [say("contentRoot"), code(answer.content_root)]]));
      return shown;
    }
    const computed = fields([
      [say("computedRoot"), code(answer.content_root)],
      [say("sizeLabel"), say("sizeValue", { size: speech.bytes(answer.size), count: answer.leaf_count,
        chunk: speech.bytes(answer.chunk_size) })]]);
    const nearest = answer.nearest;
    if (!nearest) return [verdict("bad", say("notFound")), computed];
    return [
      verdict("bad", say("nearest", { asset: assetLink(section, speech, nearest.asset_id) })),
      ...differences(speech, nearest.differences, answer),
      fields([[say("status"), speech.status(nearest.status)], [say("owner"), code(nearest.owner)],
        [say("contentRoot"), code(nearest.content_root)]]),
      computed,
    ];
  }

  /** Which parts differ from the nearest version: each changed chunk with its byte range in this file. */
  function differences(speech, diff, answer) {
    const { say } = speech;
    const parts = speech.part(diff.part);
    const shown = [paragraph(say("differing", { parts, count: diff.changed_count }))];
    if (diff.changed.length) {
      if (diff.changed.length < diff.changed_count) {
        shown.push(paragraph(say("listedFirst", { shown: diff.changed.length })));
      }
      shown.push(list(diff.changed, (index) => changedPart(speech, diff.part, index, answer)));
    }
    if (diff.added) shown.push(paragraph(say("added", { parts, count: diff.added })));
    if (diff.removed) shown.push(paragraph(say("removed", { parts, count: diff.removed })));
    return shown;
  }

  function changedPart(speech, part, index, { chunk_size: chunkSize, size }) {
    const start = index * chunkSize;
    if (part !== "chunk" || !Number.isInteger(index) || start >= size) {
      return speech.say("partItem", { part: speech.part(part), index });
    }
    const end = Math.min(start + chunkSize, size) - 1;
    return speech.say("chunkRange", { index, start: speech.bytes(start), end: speech.bytes(end) });
  }

  // ------------------------------------------------------------------------------------------ document check

  function setUpDocumentCheck() {
    const ui = byIds({ section: "verify-document", input: "document-input", drop: "document-drop",
      result: "document-result" });
    if (!ui) return false;
    const speech = speaker(ui.section);
    const check = oneAtATime((file, run) => checkDocument(ui, speech, file, run));
    ui.input.addEventListener("change", () => { if (ui.input.files.length) check(ui.input.files[0]); });
    makeDropZone(ui.drop, ui.input, check);
    return true;
  }

  async function checkDocument(ui, speech, file, { live, signal }) {
    const { say } = speech;
    const show = (...nodes) => ui.result.replaceChildren(...nodes.flat());
    if (file.size > MAX_DOCUMENT_BYTES) {
      return show(verdict("error", say("tooLarge", { name: file.name, size: speech.bytes(file.size),
        limit: speech.bytes(MAX_DOCUMENT_BYTES) })));
    }
    show(paragraph(say("checking", { name: file.name })));
    const text = await file.text().catch((error) => ({ error }));
    if (!live()) return;
    if (typeof text !== "string") {
      return show(verdict("error", say("readFailed", { reason: text.error.message || text.error.name })));
    }
    let sent;
    try {
      sent = JSON.parse(text);
    } catch (error) {
      return show(verdict("error", say("notJson", { reason: error.message })));
    }
    const kind = sent !== null && typeof sent === "object" ? sent.kind : undefined;
    const route = DOCUMENT_ROUTES.get(kind);
    if (!route) {
      const said = typeof kind === "string" ? say("wrongKind", { kind }) : say("noKind");
      return show(verdict("error", said), paragraph(say("acceptedKinds")));
    }
    const reply = await postJson(route, text, signal); // the text as read: the server checks what was written
    if (!live()) return;
    if (!reply.ok) show(failureOf(speech, reply));
    else if (kind === "dataseal.certificate") show(certificateVerdict(ui.section, speech, reply.answer));
    else show(documentVerdict(ui.section, speech, reply.answer, sent));
  }

  /** A DocumentCheck (bundle or proof): the verdict, what failed, what was and was not checked. */
  function documentVerdict(section, speech, answer, sent) {
    const { say } = speech;
    const kind = answer.kind === "proof" ? "proof" : "evidence";
    const shown = [verdict(answer.ok ? "ok" : "bad", say(kind + (answer.ok ? "Ok" : "Bad")))];
    if (answer.failure) {
      shown.push(paragraph(say("failed", { message: answer.failure.message })));
      if (answer.failure.hint) shown.push(paragraph(say("hint", { hint: answer.failure.hint })));
    }
    const registration = answer.registration;
    const chain = answer.chain;
    // A bundle names its asset; once the chain confirmed its record, that asset's page is worth a link.
    const assetId = registration?.asset_id ?? (answer.ok && chain?.holds_root ? sent.record?.asset?.assetId : null);
    if (Number.isInteger(assetId)) {
      shown.push(paragraph(say("viewAsset", { asset: assetLink(section, speech, assetId) })));
    }
    shown.push(fields([
      [say("root"), code(answer.root)],
      [say("subject"), answer.subject],
      [say("registration"), registration && say("registeredAs", {
        asset: assetLink(section, speech, registration.asset_id), status: speech.status(registration.status),
        owner: code(registration.owner) })],
      [say("chainNow"), chain && say("chainValue", {
        status: chain.status ? speech.status(chain.status) : say("none"), holds: say(chain.holds_root ? "yes" : "no"),
        trusted: chain.trusted_by ?? say("none") })],
    ]));
    shown.push(...labelledList(say("warnings"), answer.warnings));
    shown.push(...labelledList(say("checked"), answer.checked));
    shown.push(...labelledList(say("notChecked"), answer.not_checked, (item) => item.what));
    return shown;
  }

  /** A certificate's check: the verdict, the fields the chain contradicts, the changes since, its standing now. */
  function certificateVerdict(section, speech, answer) {
    const { say } = speech;
    const shown = [
      verdict(answer.ok ? "ok" : "bad", say(answer.ok ? "certificateOk" : "certificateBad")),
      paragraph(say("certificate", { number: code(answer.certificate_number),
        asset: assetLink(section, speech, answer.asset_id) })),
    ];
    if (answer.mismatches?.length) {
      shown.push(el("h4", "", say("mismatches")), table(
        [say("field"), say("certificateSays"), say("chainSays"), say("reason")],
        answer.mismatches.map((m) => [code(m.field), m.certificate, m.chain, m.reason])));
    }
    if (answer.lapses?.length) {
      shown.push(el("h4", "", say("lapses")), table(
        [say("change"), say("block"), say("transaction")],
        answer.lapses.map((lapse) => [lapse.description, lapse.block_number ?? say("none"),
          lapse.tx_hash ? code(lapse.tx_hash) : say("none")])));
    }
    const now = answer.now;
    if (now) {
      shown.push(el("h4", "", say("now", { block: now.block_number })), fields([
        [say("status"), speech.status(now.status)], [say("owner"), code(now.owner)],
        [say("validUntil"), now.valid_until ?? say("none")]]));
    }
    shown.push(...labelledList(say("checked"), answer.checked));
    shown.push(...labelledList(say("notChecked"), answer.not_checked));
    return shown;
  }

  /** A heading and a list, or nothing when the list is empty. */
  function labelledList(label, items, render) {
    return items?.length ? [el("h4", "", label), list(items, render)] : [];
  }

  // ------------------------------------------------------------------------------------------ start

  function start() {
    const fileCheck = setUpFileCheck();
    const documentCheck = setUpDocumentCheck();
    if (fileCheck || documentCheck) keepMissedDropsOnPage();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
