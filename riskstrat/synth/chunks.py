"""Generating a population in chunks of patients, so synth's memory is bounded by the chunk size.

The people are split into contiguous ranges of person index (`chunk_bounds`); each chunk is drawn,
simulated and written (appended to the extract files) on its own, with its own random streams.
Chunk 0 uses the original streams, so a population of at most CHUNK_PATIENTS people is exactly
what it was before chunking. Larger populations are a pure function of (seed, patients,
practices, period, world): the chunk size is fixed here, not a user option (docs/synthetic.md).

The ground truth is written per chunk (person indices local to the chunk), the oracle's
precomputed risks are computed per chunk, and the parts are merged at the end with person
indices shifted to the whole population's.
"""

from __future__ import annotations

import itertools
import resource
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

#: People per chunk (the memory bound: docs/synthetic.md has the measured peak per chunk).
CHUNK_PATIENTS = 500_000
#: Spawn-key offset of chunk streams (chunk c > 0 draws from SeedSequence(seed, (CHUNK_KEY + c,)));
#: far above the stream indices that SeedSequence(seed).spawn gives chunk 0.
CHUNK_KEY = 1 << 20
#: Truth files with a person column (index into persons.parquet), shifted when merging parts.
PERSON_FILES = ("medicines", "onsets", "planned", "spells")
TRUTH_FILES = ("persons", "laws", *PERSON_FILES)


def chunk_bounds(patients: int, *, size: int | None = None) -> list[tuple[int, int]]:
    """[start, stop) person ranges: as few chunks as the size allows, of near-equal length."""
    size = CHUNK_PATIENTS if size is None else size
    k = max(1, -(-patients // size))
    edges = [patients * i // k for i in range(k + 1)]
    return list(itertools.pairwise(edges))


def chunk_streams(seed: int, chunk: int, names: tuple[str, ...]) -> dict[str, np.random.Generator]:
    """Independent generators per named stream; chunk 0's are the pre-chunking streams."""
    root = np.random.SeedSequence(seed)
    if chunk > 0:
        root = np.random.SeedSequence(seed, spawn_key=(CHUNK_KEY + chunk,))
    seeds = root.spawn(len(names))
    return {name: np.random.default_rng(s) for name, s in zip(names, seeds, strict=True)}


def peak_rss_gib() -> float:
    """This process's peak resident memory so far (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2, 3)


class Sink:
    """Extract tables appended chunk by chunk: one Parquet or CSV writer per table."""

    def __init__(self, folder: Path, *, fmt: str) -> None:
        self.folder, self.fmt = folder, fmt
        self.writers: dict[str, tuple[pq.ParquetWriter | pacsv.CSVWriter, pa.Schema]] = {}
        self.rows: dict[str, int] = {}
        folder.mkdir(parents=True, exist_ok=True)

    def write(self, name: str, table: pa.Table) -> None:
        if name not in self.writers:
            path = self.folder / f"{name}.{self.fmt}"
            if self.fmt == "parquet":
                writer = pq.ParquetWriter(path, table.schema, compression="zstd")
            else:
                writer = pacsv.CSVWriter(path, table.schema)
            self.writers[name] = (writer, table.schema)
        writer, schema = self.writers[name]
        writer.write_table(table.cast(schema))
        self.rows[name] = self.rows.get(name, 0) + table.num_rows

    def close(self) -> None:
        for writer, _ in self.writers.values():
            writer.close()
        self.writers.clear()


class Appender:
    """Parquet files built from parts with the same columns (the first part fixes the schema)."""

    def __init__(self) -> None:
        self.writers: dict[Path, pq.ParquetWriter] = {}

    def write(self, path: Path, table: pa.Table) -> None:
        writer = self.writers.get(path)
        if writer is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            writer = self.writers[path] = pq.ParquetWriter(path, table.schema)
        writer.write_table(table.cast(writer.schema))

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()
        self.writers.clear()


def merge_truth(parts: list[tuple[Path, int]], out: Path) -> None:
    """Concatenate each chunk's truth files into out/, person indices shifted by the chunk's
    first person (parts: (folder, first person) in person order); meta.json from the first."""
    out.mkdir(parents=True, exist_ok=True)
    appender = Appender()
    try:
        for folder, first in parts:
            for name in TRUTH_FILES:
                table = pq.read_table(folder / f"{name}.parquet")
                if name in PERSON_FILES:
                    i = table.schema.get_field_index("person")
                    shifted = table.column(i).to_numpy() + first
                    table = table.set_column(i, "person", pa.array(shifted, table.schema[i].type))
                appender.write(out / f"{name}.parquet", table)
    finally:
        appender.close()
    (out / "meta.json").write_bytes((parts[0][0] / "meta.json").read_bytes())
