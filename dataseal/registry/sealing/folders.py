"""Folders as leaves: one leaf ``(string path, uint256 size, bytes32 sha256)`` per regular file.

``path`` is the file's path relative to the folder, POSIX separators, UTF-8; leaves are in the
order of those paths compared as UTF-8 bytes (= Unicode code point order). Empty folders are not
represented (only files are).

Anything that is not a regular file or a folder is refused with a clear error unless the caller
says otherwise, and never followed silently:

- symlinks: ``"refuse"`` (default), ``"skip"`` (left out, listed in the manifest), or
  ``"follow"`` (sealed as what they point to, under the link's path) — but a link whose target
  lies outside the folder is refused even then, and so is a loop (a link to a folder on its own
  path from the root). A link to another folder of the tree (a sibling) seals that folder's
  files again under the link's path;
- devices, FIFOs and sockets: ``"refuse"`` (default) or ``"skip"``.
"""
from __future__ import annotations

import os
import stat
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from dataseal.errors import ErrorKind
from dataseal.registry.sealing.errors import EmptyInputError, InputChangedError, SpecialFileError, UnreadableInputError
from dataseal.registry.sealing.files import ProgressCallback, default_workers, file_kind, hash_whole
from dataseal.registry.sealing.options import SpecialPolicy, SymlinkPolicy

LEAF_ENCODING = ("string", "uint256", "bytes32")
_READABLE_AND_STILL = "check that the folder is readable and that nothing is changing it, then try again"


@dataclass(frozen=True)
class FolderEntry:
    path: str  # relative, POSIX
    size: int
    sha256: bytes


@dataclass(frozen=True)
class SkippedEntry:
    path: str
    reason: str  # "symlink", "device", "fifo", "socket"


@dataclass(frozen=True)
class FolderListing:
    files: list[tuple[str, Path, int]]  # (relative path, absolute path, size at listing time)
    skipped: list[SkippedEntry]


def list_folder(
    root: Path,
    *,
    symlinks: SymlinkPolicy = "refuse",
    special: SpecialPolicy = "refuse",
    exclude: Path | None = None,
) -> FolderListing:
    """Every regular file under ``root`` (sorted), applying the symlink and special-file policies."""
    root = Path(root)
    if not root.is_dir():
        missing = not os.path.lexists(root)
        raise UnreadableInputError(f"{root} {'does not exist' if missing else 'is not a folder'}",
                                   hint="check the path" if missing else "give a folder, or seal it as a file",
                                   kind=ErrorKind.NOT_FOUND if missing else None)
    real_root = Path(os.path.realpath(root))
    real_exclude = Path(os.path.realpath(exclude)) if exclude is not None else None
    files: list[tuple[str, Path, int]] = []
    skipped: list[SkippedEntry] = []
    try:
        st_root = os.stat(real_root)
    except OSError as exc:
        raise UnreadableInputError(f"cannot stat the folder {root}: {exc.strerror or exc}",
                                   hint=_READABLE_AND_STILL) from None
    # Each folder to list comes with the (device, inode) of the folders on its path from the root:
    # only those are loops (a link to a sibling folder is not).
    stack: list[tuple[Path, str, frozenset[tuple[int, int]]]] = [
        (root, "", frozenset({(st_root.st_dev, st_root.st_ino)}))
    ]
    while stack:
        folder, prefix, ancestors = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except PermissionError:
            raise UnreadableInputError(
                f"cannot list {folder}: permission denied", hint="fix its permissions, or seal another folder"
            ) from None
        except OSError as exc:
            raise UnreadableInputError(f"cannot list {folder}: {exc.strerror or exc}",
                                       hint=_READABLE_AND_STILL) from None
        for entry in entries:
            rel = prefix + entry.name
            _check_name(rel, folder)
            full = Path(entry.path)
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError as exc:
                raise UnreadableInputError(f"cannot stat {full}: {exc.strerror or exc}",
                                           hint=_READABLE_AND_STILL) from None
            if stat.S_ISLNK(st.st_mode):
                if symlinks == "refuse":
                    raise SpecialFileError(
                        f"{rel} is a symlink (to {_link_target(full)!r}); dataseal never follows links silently",
                        hint="skip links, or follow them to seal what they point to inside the folder",
                        options=("symlinks",),
                    )
                if symlinks == "skip":
                    skipped.append(SkippedEntry(rel, "symlink"))
                    continue
                target = Path(os.path.realpath(full))
                if not _inside(target, real_root):
                    raise SpecialFileError(
                        f"{rel} is a symlink to {target}, outside the folder {real_root}; links escaping the "
                        "folder are never followed",
                        hint="remove the link, or skip links",
                        options=("symlinks",),
                    )
                try:
                    st = os.stat(target)
                except OSError as exc:
                    raise UnreadableInputError(
                        f"{rel} is a broken symlink ({exc.strerror or exc})",
                        hint="restore what it points to, remove the link, or skip links",
                        options=("symlinks",),
                    ) from None
                full = target
            if real_exclude is not None and _inside(Path(os.path.realpath(full)), real_exclude):
                continue
            if stat.S_ISDIR(st.st_mode):
                key = (st.st_dev, st.st_ino)
                if key in ancestors:
                    raise SpecialFileError(
                        f"{rel} leads back into a folder that contains it (a symlink loop)",
                        hint="remove the link, or skip links",
                        options=("symlinks",),
                    )
                stack.append((full, rel + "/", ancestors | {key}))
            elif stat.S_ISREG(st.st_mode):
                files.append((rel, full, st.st_size))
            else:
                kind = file_kind(st.st_mode)
                if special == "refuse":
                    raise SpecialFileError(
                        f"{rel} is a {kind}, not a regular file",
                        hint="leave special files out, or remove it from the folder",
                        options=("special",),
                    )
                skipped.append(SkippedEntry(rel, kind))
    files.sort(key=lambda item: item[0].encode("utf-8"))
    skipped.sort(key=lambda item: item.path.encode("utf-8"))
    return FolderListing(files, skipped)


def hash_folder(
    listing: FolderListing,
    root: Path,
    *,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
) -> list[FolderEntry]:
    """SHA-256 of every listed file, on all cores, in listing order."""
    if not listing.files:
        raise EmptyInputError(
            f"{root} holds no regular files"
            + (f" ({_entries(len(listing.skipped))} left out by policy)" if listing.skipped else "")
            + ": there is nothing to seal, a tree needs at least one leaf",
            hint="check that this is the folder you meant",
        )
    total = sum(size for _, _, size in listing.files)
    done = 0

    def one(item: tuple[str, Path, int]) -> FolderEntry:
        rel, full, listed_size = item
        size, digest = hash_whole(full)  # full is a real path: no symlink to follow
        if size != listed_size:
            raise InputChangedError(
                f"{rel} changed while the folder was being read: {listed_size} bytes when listed, "
                f"{size} when hashed",
                hint="try again when nothing is writing to it",
            )
        return FolderEntry(rel, size, digest)

    entries: list[FolderEntry] = []
    with ThreadPoolExecutor(max_workers=workers or default_workers(), thread_name_prefix="dataseal-sha256") as pool:
        for entry in pool.map(one, listing.files):
            entries.append(entry)
            done += entry.size
            if progress is not None:
                progress("hash", done, total)
    return entries


def _entries(count: int) -> str:
    return f"{count} {'entry' if count == 1 else 'entries'}"


def _link_target(link: Path) -> str:
    """Where a symlink points, as written in it (for messages; the link may vanish meanwhile)."""
    try:
        return os.readlink(link)
    except OSError:
        return "?"


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _check_name(rel: str, folder: Path) -> None:
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        shown = rel.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        raise UnreadableInputError(
            f"the name {shown!r} in {folder} is not valid UTF-8, and leaf paths are UTF-8 strings",
            hint="rename the file",
        ) from None
