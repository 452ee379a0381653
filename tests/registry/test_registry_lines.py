"""The independent CSV record count (`riskstrat.registry.lines`) agrees with Python's csv module
on awkward files, whatever the chunk boundaries."""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

import pytest

from riskstrat.registry import lines

PIECES = ["a", "bb", "", '"q,uo""te"', '"line\nbreak"', '"crlf\r\nin"', "x" * 30, '""']


def _random_csv(rng: random.Random, *, end: str) -> str:
    rows = ["h1,h2,h3"]
    for _ in range(rng.randint(0, 40)):
        if rng.random() < 0.1:
            rows.append("")  # a blank line
        else:
            rows.append(",".join(rng.choice(PIECES) for _ in range(3)))
    text = end.join(rows)
    return text + (end if rng.random() < 0.8 else "")


def _csv_module_count(text: str) -> int:
    """Data records per the csv module (blank lines are skipped by DuckDB and not counted)."""
    records = [r for r in csv.reader(io.StringIO(text, newline="")) if r]
    return max(len(records) - 1, 0)


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, 1 << 24])
def test_record_count_matches_the_csv_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(lines, "CHUNK", chunk)
    rng = random.Random(chunk)
    for i in range(60):
        text = _random_csv(rng, end=rng.choice(["\n", "\r\n"]))
        path = tmp_path / f"f{i}.csv"
        path.write_bytes(text.encode("utf-8"))
        scan = lines.scan_csv(path, max_record_bytes=10**9)
        assert scan.data_records == _csv_module_count(text), repr(text)


def test_long_records_are_named_by_their_first_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lines, "CHUNK", 5)
    path = tmp_path / "f.csv"
    path.write_bytes(b'h1,h2\n1,"two\nlines"\n2,' + b"y" * 40 + b"\n3,z\n4," + b"w" * 41)
    scan = lines.scan_csv(path, max_record_bytes=30)
    assert scan.too_long == [(4, 42), (6, 43)]
    assert (scan.records, scan.blank, scan.physical_lines) == (5, 0, 6)
