"""The evidence digest is the in-toto dirHash, reproducible with find/sort/sha256sum."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conformance.attest.evidence import EMPTY_DIR_HASH, EvidenceError, dir_hash

PIPELINE = "find . -type f | cut -c3- | LC_ALL=C sort | xargs -r sha256sum | sha256sum | cut -f1 -d' '"


def _shell(folder: Path) -> str:
    return subprocess.run(
        ["sh", "-c", PIPELINE], cwd=folder, capture_output=True, text=True, check=True
    ).stdout.strip()


needs_coreutils = pytest.mark.skipif(
    shutil.which("sha256sum") is None, reason="sha256sum (coreutils) is not installed"
)


@needs_coreutils
def test_matches_the_shell_pipeline(tmp_path: Path) -> None:
    """Nested files, hidden files and byte-order sorting give the same digest as the documented pipeline."""
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.ndjson").write_bytes(b'{"a":1}\n')
    (tmp_path / "B.txt").write_bytes(b"upper case sorts first in C order")
    (tmp_path / "a-1.bin").write_bytes(bytes(range(256)))
    (tmp_path / ".hidden").write_bytes(b"")
    (tmp_path / "empty-dir").mkdir()
    assert dir_hash(tmp_path) == _shell(tmp_path)


@needs_coreutils
def test_empty_folder_is_sha256_of_nothing(tmp_path: Path) -> None:
    """An empty folder hashes like the pipeline does on no input: SHA-256 of the empty string."""
    assert dir_hash(tmp_path) == EMPTY_DIR_HASH == _shell(tmp_path)
    assert EMPTY_DIR_HASH == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_missing_folder_counts_as_empty(tmp_path: Path) -> None:
    """A folder that does not exist (e.g. lost by git, which drops empty folders) is empty."""
    assert dir_hash(tmp_path / "evidence") == EMPTY_DIR_HASH


def test_content_and_names_both_count(tmp_path: Path) -> None:
    """Renaming or editing a file changes the digest."""
    (tmp_path / "a.txt").write_bytes(b"x")
    first = dir_hash(tmp_path)
    (tmp_path / "a.txt").write_bytes(b"y")
    second = dir_hash(tmp_path)
    (tmp_path / "a.txt").rename(tmp_path / "b.txt")
    assert len({first, second, dir_hash(tmp_path)}) == 3


@pytest.mark.parametrize(
    "name", ["with space.txt", "quote'.txt", "back\\slash", "-starts-with-dash", "new\nline"]
)
def test_unportable_names_are_refused(tmp_path: Path, name: str) -> None:
    """Names the shell pipeline would mangle are refused rather than digested differently."""
    (tmp_path / name).write_bytes(b"x")
    with pytest.raises(EvidenceError, match="not portable"):
        dir_hash(tmp_path)


@pytest.mark.skipif(os.name != "posix", reason="symbolic links need POSIX")
def test_symlinks_are_refused(tmp_path: Path) -> None:
    """find -type f would skip a link silently, so links are refused."""
    (tmp_path / "real.txt").write_bytes(b"x")
    (tmp_path / "link.txt").symlink_to(tmp_path / "real.txt")
    with pytest.raises(EvidenceError, match="symbolic links"):
        dir_hash(tmp_path)
