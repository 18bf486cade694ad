"""A deterministic digest of the ``evidence/`` folder: the in-toto ``dirHash`` DigestSet algorithm.

Spec: https://github.com/in-toto/attestation/blob/main/spec/v1/digest_set.md (``dirHash``: go's dirhash
"Hash1" in lowercase hex). Anyone can recompute it without our tool, inside the folder::

    find . -type f | cut -c3- | LC_ALL=C sort | xargs -r sha256sum | sha256sum | cut -f1 -d' '

That is: for every regular file, ``<sha256 hex>  <relative path>\\n``, sorted by path bytes, then the
SHA-256 of the concatenated lines. An empty (or absent) folder hashes to SHA-256 of nothing
(``e3b0c442…b855``), so the evidence subject is always present.

The shell pipeline only reproduces the digest when file names survive ``xargs`` and ``sha256sum``
unchanged, so names are restricted to letters, digits and ``. _ - + = , @`` (no spaces, quotes,
backslashes or newlines, no component starting with ``-``). Symbolic links and special files are refused:
``find -type f`` would silently skip them, so they could be added or changed without changing the digest.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from pathlib import Path

__all__ = ["EMPTY_DIR_HASH", "EvidenceError", "dir_hash"]

EMPTY_DIR_HASH = hashlib.sha256(b"").hexdigest()
_SAFE_COMPONENT = re.compile(r"[A-Za-z0-9._+=,@][A-Za-z0-9._+=,@-]*")
_CHUNK = 1 << 20


class EvidenceError(ValueError):
    """The evidence folder cannot be digested reproducibly (unsafe name, link, special file, I/O error)."""


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _files(folder: Path) -> list[tuple[str, Path]]:
    found: list[tuple[str, Path]] = []
    for root, dirs, names in os.walk(folder, followlinks=False):
        base = Path(root)
        for name in (*dirs, *names):
            path = base / name
            rel = path.relative_to(folder).as_posix()
            if not _SAFE_COMPONENT.fullmatch(name):
                raise EvidenceError(
                    f"evidence/{rel}: file name is not portable (use letters, digits, . _ - + = , @)"
                )
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                raise EvidenceError(f"evidence/{rel}: symbolic links are not allowed in the evidence folder")
            if stat.S_ISREG(mode):
                found.append((rel, path))
            elif not stat.S_ISDIR(mode):
                raise EvidenceError(f"evidence/{rel}: not a regular file or folder")
    return found


def dir_hash(folder: Path) -> str:
    """The ``dirHash`` of ``folder`` (lowercase hex); a missing folder counts as empty."""
    if not folder.exists() and not folder.is_symlink():
        return EMPTY_DIR_HASH
    if folder.is_symlink() or not folder.is_dir():
        raise EvidenceError(f"{folder.name}: the evidence folder must be a real folder")
    try:
        files = _files(folder)
        # LC_ALL=C sort orders by bytes; the names are ASCII, so str order is byte order.
        lines = b"".join(f"{_file_sha256(path)}  {rel}\n".encode("ascii") for rel, path in sorted(files))
    except OSError as exc:
        raise EvidenceError(f"cannot read the evidence folder: {exc.strerror} ({exc.filename})") from None
    return hashlib.sha256(lines).hexdigest()
