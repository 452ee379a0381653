"""Hashes taken where a file was written are used once, and only for that very file."""

from __future__ import annotations

import os

from riskstrat import filehash
from riskstrat.filehash import content_hash, remember, sha256_file, stamp


def test_a_remembered_hash_is_used_once_for_the_same_file(tmp_path):
    path = tmp_path / "list.csv"
    path.write_text("a,b\n1,2\n")
    stamped = stamp(path)
    assert stamped[3] == sha256_file(path)
    remember(path, (*stamped[:3], "from-the-worker"))
    assert content_hash(path) == "from-the-worker"  # not read again
    assert content_hash(path) == sha256_file(path)  # used once
    assert not filehash._KNOWN


def test_a_file_changed_after_its_stamp_is_hashed_again(tmp_path):
    path = tmp_path / "list.csv"
    path.write_text("a,b\n1,2\n")
    remember(path, (*stamp(path)[:3], "stale"))
    path.write_text("a,b\n1,3,4\n")
    os.utime(path, ns=(1, 1))
    assert content_hash(path) == sha256_file(path)
