"""Tables as leaves: each row of a CSV, JSON Lines or Parquet file becomes one leaf.

Row ``i`` (0-based, data rows only) becomes the leaf value ``(uint256 i, bytes32 d_i)`` with

    d_i = sha256(salt_i ‖ utf8(canonical_row_i))        salted (an owner secret was given)
    d_i = sha256(utf8(canonical_row_i))                 unsalted

``canonical_row_i`` is the row as canonical JSON (RFC 8785 with exact integers, see
:mod:`dataseal.registry.sealing.canonical`):

- CSV (RFC 4180: comma, double quotes; UTF-8, a leading BOM ignored): the first record is the
  header; every data record becomes an object ``{column: field text}`` (all values strings,
  exactly as parsed). Blank lines are ignored; a record with a different number of fields than
  the header is an error, and so is a double quote inside a field that is not enclosed in
  double quotes (``x"y``: RFC 4180 allows quotes only in quoted fields, doubled). A field may
  hold up to :data:`MAX_CSV_FIELD` characters.
- JSON Lines: every non-blank line is one JSON value, parsed and re-serialised canonically
  (NaN/Infinity, duplicate keys, lone surrogates and nesting deeper than
  :data:`MAX_ROW_DEPTH` levels are refused).
- Parquet (when pyarrow is installed): each row as an object; values that JSON lacks become
  strings (timestamps/dates/times ISO 8601, decimals as decimal text, binary as 0x-hex); NaN
  and infinities are refused (JSON has no form for them).

Salts: every salted seal draws a fresh random ``nonce`` (16 bytes, recorded in the manifest's
``salt.nonce``), then ``key = HMAC-SHA256(secret, "dataseal/row-salt/v2" ‖ 0x00 ‖ nonce ‖
utf8(context))`` and ``salt_i = HMAC-SHA256(key, uint64_be(i))``. A proof of row ``i`` discloses
the row and ``salt_i`` only: HMAC keeps every other salt, hence every other low-entropy row,
unguessable from a public root. The nonce makes the salts of each seal its own: row 0 of
another table, or of another version of this one, sealed with the same secret, has another
salt, so a disclosed salt says nothing about them. ``context`` is an optional label.
"""
from __future__ import annotations

import codecs
import csv
import datetime
import decimal
import hashlib
import hmac
import io
import json
import operator
import os
import re
import secrets
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from pathlib import Path
from typing import IO, Any, Final

from dataseal.chain.files import read_limited
from dataseal.errors import ErrorKind
from dataseal.registry.merkle.digests import IndexedDigestTree, IndexedDigestTreeBuilder
from dataseal.registry.sealing.canonical import CanonicalJsonError, canonical_json, exceeds_json_depth, utf16_key
from dataseal.registry.sealing.errors import EmptyInputError, MalformedTableError, SealError, SecretError
from dataseal.registry.sealing.files import ProgressCallback, check_unchanged, open_regular
from dataseal.registry.sealing.options import (
    MAX_SECRET_BYTES,
    SALT_NONCE_BYTES,
    TABLE_FORMATS,
    SealOptions,
    TableFormat,
    check_salt_context,
    check_salt_nonce,
    check_secret,
    check_table_format,
)

_EXTENSIONS: dict[str, TableFormat] = {
    ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"
}
SALT_SCHEME: Final = "hmac-sha256-v2"
SALT_LABEL = b"dataseal/row-salt/v2\x00"
#: Longest CSV field read, in characters (Python's csv module stops at 128 KiB by default).
MAX_CSV_FIELD = 64 << 20
#: Deepest nesting of arrays and objects in a JSON Lines row.
MAX_ROW_DEPTH = 256
_PROGRESS_EVERY = 1 << 15
_THE_TABLE_MEANT = "check that this is the table you meant"
_TO_UTF8 = "convert the file to UTF-8"

CANONICALIZATION = {
    "csv": (
        "RFC 4180 CSV (comma, double quotes), UTF-8 with an optional BOM ignored; the first record is "
        "the header; blank lines are ignored; a double quote inside a field not enclosed in double quotes "
        "is refused; each data record is the JSON object {column: field text} "
        "in RFC 8785 canonical form (keys sorted by UTF-16 code units, no whitespace, strings escaped "
        "as JSON.stringify does)"
    ),
    "jsonl": (
        "JSON Lines, UTF-8; blank lines are ignored; each line is parsed and written in RFC 8785 "
        "canonical form, except that integers are written exactly in decimal (never rounded to a double); "
        "NaN, Infinity, duplicate keys and lone surrogates (I-JSON) are refused"
    ),
    "parquet": (
        "Parquet rows as JSON objects {column: value} in RFC 8785 canonical form (integers exact); "
        "timestamps, dates and times as ISO 8601 strings, decimals as decimal text, binary as 0x-hex; "
        "NaN and infinities are refused"
    ),
}
ROW_DIGEST = {
    True: "sha256(salt_i || utf8(canonical_row_i)), salt_i = HMAC-SHA256(key, uint64_be(i)), key = "
    "HMAC-SHA256(secret, 'dataseal/row-salt/v2' || 0x00 || nonce || utf8(context)), nonce = the 16 bytes of "
    "salt.nonce, context = salt.context",
    False: "sha256(utf8(canonical_row_i))",
}


def detect_format(path: Path, explicit: str | None = None) -> TableFormat:
    """The table format: ``explicit`` if given, else from the file name's extension."""
    if explicit is not None:
        check_table_format(explicit)
        return explicit  # type: ignore[return-value]  # checked just above
    fmt = _EXTENSIONS.get(Path(path).suffix.lower())
    if fmt is None:
        raise SealError(
            f"cannot tell the table format of {path} from its extension {Path(path).suffix!r}",
            hint=f"name it .csv, .jsonl/.ndjson or .parquet, or give the format ({', '.join(TABLE_FORMATS)})",
            options=("table_format",),
        )
    return fmt


# ---------------------------------------------------------------------- salts


class RowSalter:
    """Per-row salts derived from the owner's secret and a seal's nonce (HMAC-SHA256, see the module doc)."""

    def __init__(self, secret: bytes, nonce: bytes, context: str = "") -> None:
        # The rules of SealOptions (options.py), for a salter built on its own.
        check_secret(secret)
        check_salt_nonce(nonce)
        check_salt_context(context)
        key = _hmac_sha256(secret, SALT_LABEL + nonce + context.encode("utf-8"))
        # HMAC with the pads hashed once: the same function as hmac.digest(key, msg, "sha256"), ~2.5× faster.
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in key.ljust(64, b"\0")))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in key.ljust(64, b"\0")))
        self.nonce = nonce
        self.context = context

    def salt(self, index: int) -> bytes:
        inner = self._inner.copy()
        inner.update(index.to_bytes(8, "big"))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()


def read_secret(path: Path) -> bytes:
    """The owner's secret: the file's bytes, exactly (no newline is stripped); a regular file of at most
    :data:`MAX_SECRET_BYTES`."""
    try:
        return read_limited(Path(path), MAX_SECRET_BYTES, what="salt secret file", error=SecretError,
                            options=("salt_secret",))
    except FileNotFoundError:
        raise SecretError(f"salt secret file {path} does not exist",
                          hint="check the path (a row is proved with the secret file its table was sealed with)",
                          options=("salt_secret",), kind=ErrorKind.NOT_FOUND) from None
    except OSError as exc:
        raise SecretError(f"cannot read the salt secret file {path}: {exc.strerror or exc}",
                          hint="check that it is a file that you can read", options=("salt_secret",)) from None


def row_digest(canonical_row: str, salt: bytes | None) -> bytes:
    """``d_i`` of a row (see the module doc)."""
    data = canonical_row.encode("utf-8")
    return hashlib.sha256(salt + data if salt is not None else data).digest()


# ---------------------------------------------------------------------- sealing


@dataclass
class TableRows:
    """Result of reading a table: the tree (close it when done) and what the manifest records."""

    tree: IndexedDigestTree
    format: TableFormat
    size: int
    columns: list[str] | None
    salted: bool
    salt_nonce: bytes | None
    salt_context: str | None
    captured: dict[int, tuple[str, bytes | None]] = field(default_factory=dict)


def seal_rows(
    path: Path,
    options: SealOptions | None = None,
    *,
    capture: frozenset[int] = frozenset(),
    temp_dir: Path | None = None,
    progress: ProgressCallback | None = None,
) -> TableRows:
    """Read every row of ``path`` into an :class:`IndexedDigestTree` (``options`` as for ``rows``:
    the table format, and the salt secret, nonce and context).

    With a secret, rows are salted with the options' nonce (a manifest's, to recompute its tree),
    or a fresh random nonce when it is None (a new seal). ``capture`` names rows whose canonical
    text and salt are kept (for proofs).
    """
    path = Path(path)
    if options is None:
        options = SealOptions(rows=True)
    fmt = detect_format(path, options.table_format)
    salter = None
    if options.secret is not None:
        nonce = options.salt_nonce if options.salt_nonce is not None else secrets.token_bytes(SALT_NONCE_BYTES)
        salter = RowSalter(options.secret, nonce, options.salt_context)
    fd, identity = open_regular(path)
    try:
        if identity.size == 0:
            raise EmptyInputError(f"{path} is empty (0 bytes): there are no rows to seal", hint=_THE_TABLE_MEANT)
        reader: Callable[[Path, IO[bytes]], tuple[Iterator[str], list[str] | None]]
        reader = {"csv": _csv_rows, "jsonl": _jsonl_rows, "parquet": _parquet_rows}[fmt]

        def position() -> int:
            """Bytes consumed: the descriptor's offset (ahead of the parser by one buffer at most)."""
            return identity.size if fmt == "parquet" else os.lseek(fd, 0, os.SEEK_CUR)

        with open(fd, "rb", closefd=False, buffering=1 << 20) as raw:
            rows, columns = reader(path, raw)
            with IndexedDigestTreeBuilder(temp_dir) as builder:
                captured = _digest_rows(rows, builder, salter, capture, identity.size, position, progress)
                if len(builder) == 0:
                    raise EmptyInputError(f"{path} has no data rows (only a header or blank lines): nothing to seal",
                                          hint=_THE_TABLE_MEANT)
                check_unchanged(path, fd, identity, position())
                tree = builder.finish(_node_progress(progress))
    finally:
        os.close(fd)
    return TableRows(
        tree=tree,
        format=fmt,
        size=identity.size,
        columns=columns,
        salted=salter is not None,
        salt_nonce=salter.nonce if salter is not None else None,
        salt_context=options.salt_context if salter is not None else None,
        captured=captured,
    )


def _digest_rows(
    rows: Iterator[str],
    builder: IndexedDigestTreeBuilder,
    salter: RowSalter | None,
    capture: frozenset[int],
    size: int,
    position: Callable[[], int],
    progress: ProgressCallback | None,
) -> dict[int, tuple[str, bytes | None]]:
    """The hot loop: salt, digest and add every row, in blocks."""
    sha256 = hashlib.sha256
    captured: dict[int, tuple[str, bytes | None]] = {}
    index = 0
    block: list[str] = []
    while True:
        block.clear()
        for row in rows:
            block.append(row)
            if len(block) == _PROGRESS_EVERY:
                break
        if not block:
            return captured
        if salter is None:
            digests = b"".join([sha256(row.encode("utf-8")).digest() for row in block])
        else:
            salt = salter.salt
            digests = b"".join(
                [sha256(salt(i) + row.encode("utf-8")).digest() for i, row in enumerate(block, start=index)]
            )
        if capture:
            for i in capture:
                if index <= i < index + len(block):
                    captured[i] = (block[i - index], salter.salt(i) if salter is not None else None)
        builder.add_many(digests)
        index += len(block)
        if progress is not None:
            progress("rows", min(position(), size), size)


def _node_progress(progress: ProgressCallback | None) -> Callable[[int, int], None] | None:
    if progress is None:
        return None
    return lambda done, total: progress("tree", done, total)


# ---------------------------------------------------------------------- readers


def _csv_rows(path: Path, raw: IO[bytes]) -> tuple[Iterator[str], list[str]]:
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="", errors="strict")
    csv.field_size_limit(MAX_CSV_FIELD)  # process-wide; the default (128 KiB) refuses real tables
    reader = csv.reader(_rfc4180_lines(text, path), strict=True)
    try:
        header = next(reader)
        while not header:
            header = next(reader)
    except StopIteration:
        raise EmptyInputError(f"{path} has no header and no rows: nothing to seal", hint=_THE_TABLE_MEANT) from None
    except (csv.Error, UnicodeDecodeError) as exc:
        raise _csv_error(path, reader.line_num, exc, raw) from None
    seen: dict[str, int] = {}
    for i, name in enumerate(header):
        if name == "":
            raise MalformedTableError(f"{path} line 1: column {i + 1} of the header has no name",
                                      hint="name every column")
        if name in seen:
            raise MalformedTableError(
                f"{path} line 1: column name {name!r} appears twice (columns {seen[name] + 1} and {i + 1}), but "
                "column names must be unique",
                hint="rename one of the two columns",
            )
        seen[name] = i
    width = len(header)
    order = sorted(range(width), key=lambda j: utf16_key(header[j]))
    prefixes = [encode_basestring(header[j]) + ":" for j in order]
    pick = operator.itemgetter(*order) if width > 1 else (lambda row: (row[order[0]],))
    add = operator.add

    def rows() -> Iterator[str]:
        try:
            for record in reader:
                if len(record) != width:
                    if not record:
                        continue  # a blank line
                    raise MalformedTableError(
                        f"{path} line {reader.line_num}: {len(record)} fields, but the header has {width}",
                        hint="fix the row (quote fields that contain commas or newlines)",
                    )
                yield "{" + ",".join(map(add, prefixes, map(encode_basestring, pick(record)))) + "}"
        except (csv.Error, UnicodeDecodeError) as exc:
            raise _csv_error(path, reader.line_num, exc, raw) from None

    return rows(), list(header)


def _csv_error(path: Path, line: int, exc: Exception, raw: IO[bytes]) -> MalformedTableError:
    if isinstance(exc, UnicodeDecodeError):
        # The decoder fails a whole read block ahead of the CSV reader: find the byte in the file itself.
        where = _first_invalid_utf8(raw.fileno())
        if where is not None:
            bad_line, offset = where
            return MalformedTableError(
                f"{path} line {bad_line} is not valid UTF-8 ({exc.reason} at byte {offset} of the file)",
                hint=_TO_UTF8,
            )
        return MalformedTableError(f"{path} is not valid UTF-8 ({exc.reason})", hint=_TO_UTF8)
    if str(exc).startswith("field larger than field limit"):
        return MalformedTableError(
            f"{path} line {line}: a field is longer than {MAX_CSV_FIELD:,} characters, the most dataseal reads in "
            "one CSV field (or a quote left open swallowed the rest of the file)",
            hint="check the quoting, or seal the file by its bytes rather than its rows",
            options=("rows",),
        )
    return MalformedTableError(f"{path} line {line}: malformed CSV ({exc})", hint="fix the quoting of that record")


def _first_invalid_utf8(fd: int) -> tuple[int, int] | None:
    """The line (from 1) and byte offset (from 0) of the first byte of ``fd``'s file that is not UTF-8, read
    from the start with ``pread`` (the descriptor's own offset is left alone); None if there is none."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset, line = 0, 1
    while block := os.pread(fd, _SCAN_BLOCK, offset):
        try:
            decoder.decode(block)
        except UnicodeDecodeError as exc:
            held = len(exc.object) - len(block)  # bytes of a sequence begun in the previous block
            bad = max(exc.start - held, 0)
            return line + block.count(b"\n", 0, bad), offset + exc.start - held
        line += block.count(b"\n")
        offset += len(block)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return line, offset - len(decoder.getstate()[0])
    return None


_SCAN_BLOCK = 1 << 20

# Possessive quantifiers: the alternatives never overlap, so nothing to backtrack into (35% faster).
_QUOTED_FIELD = r'"[^"]*+(?:""[^"]*+)*+"'
#: A whole line of complete records whose quotes all enclose fields: the common case, checked in one match.
_CLEAN_LINE = re.compile(rf'(?:{_QUOTED_FIELD}|[^,"\r\n]*+)(?:,(?:{_QUOTED_FIELD}|[^,"\r\n]*+))*+(?:\r\n|\n|\r)?')
_QUOTED_TEXT = re.compile(r'[^"]*+(?:""[^"]*+)*+')  # inside a quoted field: up to its closing quote
_UNQUOTED_TEXT = re.compile(r'[^,"\r\n]*+')


def _rfc4180_lines(lines: Iterable[str], path: Path) -> Iterator[str]:
    """The lines, passed on to csv.reader, refusing a double quote inside an unquoted field.

    Python's csv module reads ``x"y`` as the text ``x"y``; RFC 4180 allows a quote only in a field
    enclosed in quotes. Lines without a quote pass on a substring test; lines with quotes on one
    regular expression, and only unusual lines (a quoted field spanning lines) are walked field
    by field. Other quoting errors (text after a closing quote) are left to csv.reader (strict).
    """
    in_quotes = False  # the previous line ended inside a quoted field
    field = 0  # fields of the current record already ended on earlier lines (inside a quoted field only)
    for number, line in enumerate(lines, start=1):
        if '"' in line:
            if not in_quotes and _CLEAN_LINE.fullmatch(line):
                field = 0
            else:
                in_quotes, field = _walk_quotes(line, in_quotes, field, path, number)
        yield line


def _walk_quotes(line: str, in_quotes: bool, field: int, path: Path, number: int) -> tuple[bool, int]:
    """(still inside a quoted field at the end of ``line``, fields of the record so far)."""
    pos, end = 0, len(line)
    while True:
        if in_quotes:
            pos = _QUOTED_TEXT.match(line, pos).end()  # type: ignore[union-attr]  # matches the empty string
            if pos == end:
                return True, field
            pos += 1  # the closing quote
            in_quotes = False
            if pos == end or line[pos] != ",":
                return False, 0  # the record ends here (or csv.reader reports what follows the quote)
            pos += 1
            field += 1
        if pos < end and line[pos] == '"':
            in_quotes = True
            pos += 1
            continue
        pos = _UNQUOTED_TEXT.match(line, pos).end()  # type: ignore[union-attr]  # matches the empty string
        if pos == end or line[pos] in "\r\n":
            return False, 0
        if line[pos] == ",":
            pos += 1
            field += 1
            continue
        raise MalformedTableError(
            f"{path} line {number}: field {field + 1} holds a double quote but is not enclosed in double quotes, and "
            "RFC 4180 allows quotes only in quoted fields",
            hint='write the field as "x""y" (quoted, the quote doubled)',
        )


class _NotARow(Exception):
    """JSON that the json module reads but a row may not hold (NaN, a repeated key); caught in this module."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def _jsonl_rows(path: Path, raw: IO[bytes]) -> tuple[Iterator[str], None]:

    def refuse_constant(name: str) -> Any:
        raise _NotARow(f"{name} is not valid JSON", "write null or a string instead")

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in items:
            if key in result:
                raise _NotARow(f"duplicate key {key!r}", "keep one value per key")
            result[key] = value
        return result

    decode = json.JSONDecoder(object_pairs_hook=pairs, parse_constant=refuse_constant).decode

    def rows() -> Iterator[str]:
        index = 0  # data rows so far: the row number that proofs use
        for number, line in enumerate(raw, start=1):
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise MalformedTableError(
                    f"{path} line {number} is not valid UTF-8 ({exc.reason} at byte {exc.start})", hint=_TO_UTF8
                ) from None
            if number == 1 and text.startswith("\ufeff"):
                text = text[1:]
            if not text.strip():
                continue
            if exceeds_json_depth(line, MAX_ROW_DEPTH):
                raise MalformedTableError(
                    f"{path} line {number} (row {index}) nests arrays or objects more than {MAX_ROW_DEPTH} levels "
                    "deep, more than dataseal reads in a row",
                    hint="flatten the row",
                )
            try:
                row = canonical_json(decode(text))
            except json.JSONDecodeError as exc:
                raise MalformedTableError(
                    f"{path} line {number} is not valid JSON: {exc.msg} (column {exc.colno}), but each line of a JSON "
                    "Lines file must be one complete JSON value",
                    hint="write each row as one JSON value on one line",
                ) from None
            except (_NotARow, CanonicalJsonError) as exc:
                raise MalformedTableError(f"{path} line {number} (row {index}): {exc.message}",
                                          hint=exc.hint or "fix the line") from None
            except ValueError:  # an integer longer than Python converts (sys.get_int_max_str_digits)
                raise MalformedTableError(
                    f"{path} line {number} (row {index}) holds an integer of more than {sys.get_int_max_str_digits()} "
                    "digits, more than dataseal reads in a row",
                    hint="write such a number as a string",
                ) from None
            yield row
            index += 1

    return rows(), None


def _parquet_rows(path: Path, raw: IO[bytes]) -> tuple[Iterator[str], list[str]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise SealError(
            f"sealing the Parquet table {path} needs pyarrow, which is not installed",
            hint="install pyarrow (`pip install pyarrow`), or convert the table to CSV or JSON Lines",
            kind=ErrorKind.INTERNAL,  # the installation lacks an optional part
        ) from None
    try:
        parquet = pq.ParquetFile(raw)
    except Exception as exc:  # pyarrow raises its own ArrowInvalid family
        raise MalformedTableError(f"{path} is not a readable Parquet file: {exc}",
                                  hint="check that the file is a whole Parquet file, or give its real format",
                                  options=("table_format",)) from None
    columns = [str(name) for name in parquet.schema_arrow.names]

    def rows() -> Iterator[str]:
        index = 0
        try:
            for batch in parquet.iter_batches(batch_size=1 << 14):
                for row in batch.to_pylist():
                    try:
                        text = canonical_json({str(k): _plain(v) for k, v in row.items()})
                    except CanonicalJsonError as exc:
                        raise _parquet_row_error(path, index, row, exc) from None
                    yield text
                    index += 1
        except SealError:
            raise
        except Exception as exc:
            raise MalformedTableError(
                f"reading the Parquet table {path} failed: {exc}",
                hint="check that the file is a whole Parquet file (not truncated or damaged)",
            ) from None

    return rows(), columns


def _parquet_row_error(path: Path, index: int, row: dict[Any, Any], exc: CanonicalJsonError) -> MalformedTableError:
    """The error for a Parquet row without a canonical JSON form, naming the first column at fault."""
    where = ""
    for name, value in row.items():
        try:
            canonical_json(_plain(value))
        except CanonicalJsonError as cell:
            where, exc = f", column {str(name)!r}", cell
            break
    return MalformedTableError(
        f"{path} row {index}{where} cannot be sealed: {exc.message} (rows are sealed as canonical JSON)",
        hint="fix the value in the table" + (f" ({exc.hint})" if exc.hint else "") + ", and seal it again",
    )


def _plain(value: Any) -> Any:
    """A Parquet cell as a JSON value (see the module doc)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "0x" + bytes(value).hex()
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return str(value.total_seconds())
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value)


def _hmac_sha256(key: bytes, message: bytes) -> bytes:
    return hmac.digest(key, message, "sha256")
