"""Synth in chunks of patients: the chunks split the list evenly; a chunked population is one
population (unique ids and NHS numbers, spell and attendance ids numbered across chunks, truth
merged with shifted person indices, so the oracle reproduces its precomputed risks), ingests
cleanly, and is deterministic for a seed; CSV extracts are appended with one header."""

from __future__ import annotations

import hashlib
import itertools
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from riskstrat.synth import chunks
from riskstrat.synth.chunks import chunk_bounds
from riskstrat.synth.generate import synthesize
from riskstrat.synth.oracle import crisis_risk, readmission_risk

CHUNKED = dict(patients=1_200, practices=3, start=date(2024, 1, 1), end=date(2025, 3, 31))
CHUNK = 300  # -> 4 chunks of 300


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def chunked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("chunked")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(chunks, "CHUNK_PATIENTS", CHUNK)
        synthesize(**CHUNKED, seed=3, out_dir=out / "a")
        synthesize(**CHUNKED, seed=3, out_dir=out / "b")
        synthesize(**CHUNKED, seed=3, out_dir=out / "csv", fmt="csv")
    return out


def test_synth_chunk_bounds_cover_the_list_evenly():
    assert chunk_bounds(10, size=4) == [(0, 3), (3, 6), (6, 10)]
    assert chunk_bounds(4, size=4) == [(0, 4)]
    assert chunk_bounds(9, size=4) == [(0, 3), (3, 6), (6, 9)]
    for n in (1, 999_999, 1_000_001, 10_000_000):
        bounds = chunk_bounds(n)
        assert bounds[0][0] == 0 and bounds[-1][1] == n
        assert all(b == c for (_, b), (c, _) in itertools.pairwise(bounds))
        assert max(b - a for a, b in bounds) <= chunks.CHUNK_PATIENTS


def test_synth_chunked_is_deterministic_and_chunks_differ(chunked):
    a, b = _digest(chunked / "a"), _digest(chunked / "b")
    assert a == b and "truth/crisis.parquet" in a and "extract/spells.parquet" in a
    assert not (chunked / "a" / ".synth-staging").exists()
    persons = pq.read_table(chunked / "a" / "truth" / "persons.parquet").to_pandas()
    dob = persons["dob"].to_numpy()
    assert not np.array_equal(dob[:CHUNK], dob[CHUNK : 2 * CHUNK])  # own streams per chunk


def test_synth_chunked_ids_unique_and_numbered_across_chunks(chunked):
    ext = chunked / "a" / "extract"
    patients = pd.read_parquet(ext / "patients.parquet")
    contacts = pd.read_parquet(ext / "contacts.parquet")
    assert len(patients) == CHUNKED["patients"] and patients["patient_id"].is_unique
    assert (contacts["patient_id"] == patients["patient_id"]).all()
    assert contacts["nhs_number"].is_unique
    assert patients["practice_code"].nunique() == CHUNKED["practices"]
    spells = pd.read_parquet(ext / "spells.parquet")
    truth_spells = pd.read_parquet(chunked / "a" / "truth" / "spells.parquet")
    numbers = truth_spells["spell_id"].str[1:].astype(int).to_numpy()
    assert np.array_equal(numbers, np.arange(1, numbers.size + 1))  # one numbering
    assert spells["spell_id"].is_unique and set(spells["spell_id"]) <= set(truth_spells["spell_id"])
    ae = pd.read_parquet(ext / "ae_attendances.parquet")
    numbers = ae["attendance_id"].str[1:].astype(int).to_numpy()
    assert np.array_equal(numbers, np.arange(1, numbers.size + 1))
    # merged truth: a spell's person index points at the same patient as the extract says
    persons = pd.read_parquet(chunked / "a" / "truth" / "persons.parquet")
    assert (persons["patient_id"] == patients["patient_id"]).all()
    merged = spells.merge(truth_spells[["spell_id", "person"]], on="spell_id")
    assert len(merged) == len(spells)
    truth_patient = persons["patient_id"].to_numpy()[merged["person"].to_numpy()]
    assert (truth_patient == merged["patient_id"].to_numpy()).all()
    assert merged["person"].max() >= 3 * CHUNK  # the last chunk's people are shifted


def test_synth_chunked_oracle_matches_precomputed(chunked):
    truth = chunked / "a" / "truth"
    crisis = pd.read_parquet(truth / "crisis.parquet")
    assert crisis["patient_id"].str[1:].astype(int).between(1, CHUNKED["patients"]).all()
    rows = crisis[crisis["horizon_days"] == 90]
    got = crisis_risk(truth, rows[["patient_id", "index_date"]], horizon_days=90)
    np.testing.assert_allclose(got, rows["p_admission"], rtol=1e-9)
    readm = pd.read_parquet(truth / "readmission.parquet")
    assert readm["index_spell_id"].is_unique and len(readm) > 50
    got = readmission_risk(truth, readm[["index_spell_id"]])
    np.testing.assert_allclose(got, readm["p_readmission"], rtol=1e-9)


def test_synth_chunked_extract_ingests_cleanly(chunked, tmp_path):
    from riskstrat.config import load_settings
    from riskstrat.registry.ingest import ingest

    report = ingest(
        chunked / "a" / "extract",
        extract_date=CHUNKED["end"],
        store_path=tmp_path / "store.duckdb",
        settings=load_settings(),
    )
    assert report.status == "ingested"
    assert {t: r.rejected + r.duplicates for t, r in report.tables.items()} == dict.fromkeys(
        report.tables, 0
    )
    assert report.tables["patients"].accepted == CHUNKED["patients"]


def test_synth_chunked_csv_has_one_header_and_same_rows(chunked):
    for name in ("patients", "spells", "prescriptions"):
        csv = pacsv.read_csv(chunked / "csv" / "extract" / f"{name}.csv")
        parquet = pq.read_table(chunked / "a" / "extract" / f"{name}.parquet")
        assert csv.num_rows == parquet.num_rows
        assert csv.column_names == parquet.column_names
        first = csv.column_names[0]
        assert first not in set(csv.column(first).cast("string").to_pylist())
