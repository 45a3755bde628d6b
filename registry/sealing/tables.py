"""Tables as leaves: each row of a CSV, JSON Lines or Parquet file becomes one leaf.

Row ``i`` (0-based, data rows only) becomes the leaf value ``(uint256 i, bytes32 d_i)`` with

    d_i = sha256(salt_i ‖ utf8(canonical_row_i))        salted (an owner secret was given)
    d_i = sha256(utf8(canonical_row_i))                 unsalted

``canonical_row_i`` is the row as canonical JSON (RFC 8785 with exact integers, see
:mod:`registry.sealing.canonical`):

- CSV (RFC 4180: comma, double quotes; UTF-8, a leading BOM ignored): the first record is the
  header; every data record becomes an object ``{column: field text}`` (all values strings,
  exactly as parsed). Blank lines are ignored; a record with a different number of fields than
  the header is an error.
- JSON Lines: every non-blank line is one JSON value, parsed and re-serialised canonically
  (NaN/Infinity and duplicate keys are refused).
- Parquet (when pyarrow is installed): each row as an object; values that JSON lacks become
  strings (timestamps/dates/times ISO 8601, decimals as decimal text, binary as 0x-hex).

Salts: ``key = HMAC-SHA256(secret, "dataseal/row-salt/v1" ‖ 0x00 ‖ utf8(context))`` and
``salt_i = HMAC-SHA256(key, uint64_be(i))``. A proof of row ``i`` discloses the row and
``salt_i`` only: HMAC keeps every other salt, hence every other low-entropy row, unguessable
from a public root. Use a different ``context`` when one secret seals several tables.
"""
from __future__ import annotations

import csv
import datetime
import decimal
import hashlib
import hmac
import io
import json
import operator
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from pathlib import Path
from typing import IO, Any

from registry.merkle.digests import IndexedDigestTree, IndexedDigestTreeBuilder
from registry.sealing.canonical import CanonicalJsonError, canonical_json, utf16_key
from registry.sealing.errors import EmptyInputError, MalformedTableError, SealError, SecretError
from registry.sealing.files import ProgressCallback, check_unchanged, open_regular

TABLE_FORMATS = ("csv", "jsonl", "parquet")
_EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}
SALT_SCHEME = "hmac-sha256-v1"
SALT_LABEL = b"dataseal/row-salt/v1\x00"
MIN_SECRET_BYTES = 16
_PROGRESS_EVERY = 1 << 15

CANONICALIZATION = {
    "csv": (
        "RFC 4180 CSV (comma, double quotes), UTF-8 with an optional BOM ignored; the first record is "
        "the header; blank lines are ignored; each data record is the JSON object {column: field text} "
        "in RFC 8785 canonical form (keys sorted by UTF-16 code units, no whitespace, strings escaped "
        "as JSON.stringify does)"
    ),
    "jsonl": (
        "JSON Lines, UTF-8; blank lines are ignored; each line is parsed and written in RFC 8785 "
        "canonical form, except that integers are written exactly in decimal (never rounded to a double); "
        "NaN, Infinity and duplicate keys are refused"
    ),
    "parquet": (
        "Parquet rows as JSON objects {column: value} in RFC 8785 canonical form (integers exact); "
        "timestamps, dates and times as ISO 8601 strings, decimals as decimal text, binary as 0x-hex"
    ),
}
ROW_DIGEST = {
    True: "sha256(salt_i || utf8(canonical_row_i)), salt_i = HMAC-SHA256(HMAC-SHA256(secret, "
    "'dataseal/row-salt/v1' || 0x00 || utf8(context)), uint64_be(i))",
    False: "sha256(utf8(canonical_row_i))",
}


def detect_format(path: Path, explicit: str | None = None) -> str:
    """The table format: ``explicit`` if given, else from the file name's extension."""
    if explicit is not None:
        if explicit not in TABLE_FORMATS:
            raise SealError(f"unknown table format {explicit!r}; use one of {', '.join(TABLE_FORMATS)}")
        return explicit
    fmt = _EXTENSIONS.get(Path(path).suffix.lower())
    if fmt is None:
        raise SealError(
            f"cannot tell the table format of {path} from its extension {Path(path).suffix!r}; "
            f"name it .csv, .jsonl/.ndjson or .parquet, or give the format ({', '.join(TABLE_FORMATS)})"
        )
    return fmt


# ---------------------------------------------------------------------- salts


class RowSalter:
    """Per-row salts derived from the owner's secret (HMAC-SHA256, see the module doc)."""

    def __init__(self, secret: bytes, context: str = "") -> None:
        if len(secret) < MIN_SECRET_BYTES:
            raise SecretError(
                f"the salt secret is {len(secret)} bytes; use at least {MIN_SECRET_BYTES} random bytes, "
                "e.g. `head -c 32 /dev/urandom > secret.key`, and keep it: proofs of rows need it"
            )
        key = _hmac_sha256(secret, SALT_LABEL + context.encode("utf-8"))
        # HMAC with the pads hashed once: the same function as hmac.digest(key, msg, "sha256"), ~2.5× faster.
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in key.ljust(64, b"\0")))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in key.ljust(64, b"\0")))
        self.context = context

    def salt(self, index: int) -> bytes:
        inner = self._inner.copy()
        inner.update(index.to_bytes(8, "big"))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()


def read_secret(path: Path) -> bytes:
    """The owner's secret: the file's bytes, exactly (no newline is stripped)."""
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise SecretError(f"salt secret file {path} does not exist; give the file the table was sealed with") from None
    except OSError as exc:
        raise SecretError(f"cannot read the salt secret file {path}: {exc.strerror or exc}") from None


def row_digest(canonical_row: str, salt: bytes | None) -> bytes:
    """``d_i`` of a row (see the module doc)."""
    data = canonical_row.encode("utf-8")
    return hashlib.sha256(salt + data if salt is not None else data).digest()


# ---------------------------------------------------------------------- sealing


@dataclass
class TableRows:
    """Result of reading a table: the tree (close it when done) and what the manifest records."""

    tree: IndexedDigestTree
    format: str
    size: int
    columns: list[str] | None
    salted: bool
    salt_context: str | None
    captured: dict[int, tuple[str, bytes | None]] = field(default_factory=dict)


def seal_rows(
    path: Path,
    *,
    format: str | None = None,
    secret: bytes | None = None,
    salt_context: str = "",
    capture: frozenset[int] = frozenset(),
    temp_dir: Path | None = None,
    progress: ProgressCallback | None = None,
) -> TableRows:
    """Read every row of ``path`` into an :class:`IndexedDigestTree`.

    ``capture`` names rows whose canonical text and salt are kept (for proofs).
    """
    path = Path(path)
    fmt = detect_format(path, format)
    salter = RowSalter(secret, salt_context) if secret is not None else None
    fd, identity = open_regular(path)
    try:
        if identity.size == 0:
            raise EmptyInputError(f"{path} is empty (0 bytes): there are no rows to seal")
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
                    raise EmptyInputError(f"{path} has no data rows (only a header or blank lines): nothing to seal")
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
        salt_context=salt_context if salter is not None else None,
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
    reader = csv.reader(text, strict=True)
    try:
        header = next(reader)
        while not header:
            header = next(reader)
    except StopIteration:
        raise EmptyInputError(f"{path} has no header and no rows: nothing to seal") from None
    except (csv.Error, UnicodeDecodeError) as exc:
        raise _csv_error(path, reader.line_num, exc) from None
    seen: dict[str, int] = {}
    for i, name in enumerate(header):
        if name == "":
            raise MalformedTableError(f"{path} line 1: column {i + 1} of the header has no name; name every column")
        if name in seen:
            raise MalformedTableError(
                f"{path} line 1: column name {name!r} appears twice (columns {seen[name] + 1} and {i + 1}); "
                "column names must be unique"
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
                        f"{path} line {reader.line_num}: {len(record)} fields, but the header has {width}; "
                        "fix the row (quote fields that contain commas or newlines)"
                    )
                yield "{" + ",".join(map(add, prefixes, map(encode_basestring, pick(record)))) + "}"
        except (csv.Error, UnicodeDecodeError) as exc:
            raise _csv_error(path, reader.line_num, exc) from None

    return rows(), list(header)


def _csv_error(path: Path, line: int, exc: Exception) -> MalformedTableError:
    if isinstance(exc, UnicodeDecodeError):
        return MalformedTableError(
            f"{path} near line {line + 1} is not valid UTF-8 ({exc.reason} at byte {exc.start} of a read block); "
            "convert the file to UTF-8"
        )
    return MalformedTableError(f"{path} line {line}: malformed CSV ({exc}); fix the quoting of that record")


def _jsonl_rows(path: Path, raw: IO[bytes]) -> tuple[Iterator[str], None]:

    def refuse_constant(name: str) -> Any:
        raise ValueError(f"{name} is not valid JSON")

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in items:
            if key in result:
                raise ValueError(f"duplicate key {key!r}")
            result[key] = value
        return result

    decode = json.JSONDecoder(object_pairs_hook=pairs, parse_constant=refuse_constant).decode

    def rows() -> Iterator[str]:
        for number, line in enumerate(raw, start=1):
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise MalformedTableError(
                    f"{path} line {number} is not valid UTF-8 ({exc.reason} at byte {exc.start}); convert it to UTF-8"
                ) from None
            if number == 1 and text.startswith("\ufeff"):
                text = text[1:]
            if not text.strip():
                continue
            try:
                value = decode(text)
                yield canonical_json(value)
            except json.JSONDecodeError as exc:
                raise MalformedTableError(
                    f"{path} line {number} is not valid JSON: {exc.msg} (column {exc.colno}); "
                    "each line of a JSON Lines file must be one complete JSON value"
                ) from None
            except (ValueError, CanonicalJsonError) as exc:
                raise MalformedTableError(f"{path} line {number}: {exc}; fix the line") from None

    return rows(), None


def _parquet_rows(path: Path, raw: IO[bytes]) -> tuple[Iterator[str], list[str]]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise SealError(
            f"sealing the Parquet table {path} needs pyarrow, which is not installed: `pip install pyarrow`, "
            "or convert the table to CSV or JSON Lines"
        ) from None
    try:
        parquet = pq.ParquetFile(raw)
    except Exception as exc:  # pyarrow raises its own ArrowInvalid family
        raise MalformedTableError(f"{path} is not a readable Parquet file: {exc}") from None
    columns = [str(name) for name in parquet.schema_arrow.names]

    def rows() -> Iterator[str]:
        try:
            for batch in parquet.iter_batches(batch_size=1 << 14):
                for row in batch.to_pylist():
                    yield canonical_json({str(k): _plain(v) for k, v in row.items()})
        except (CanonicalJsonError, SealError):
            raise
        except Exception as exc:
            raise MalformedTableError(f"reading the Parquet table {path} failed: {exc}") from None

    return rows(), columns


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
