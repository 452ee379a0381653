"""The leakage audit THROUGH ingest (defect L1).

`test_features_leakage.py` perturbs the future of tables already in memory, after ingest, so it
cannot see what ingest itself does with the future. Here the synthetic extract is ingested twice:
as it is (A), and with what a later, messier extract would add (B): rows dated after the last
as-of date, discharges / resolutions / deaths that are still in the future moved to implausible
dates (after the extract date, or more than the grace period after death). Features at the
earlier as-of dates must be identical. The same B ingested with the old rule (a bad later date
rejects the whole row) must change them: the audit is not vacuous.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from riskstrat.config import IngestConfig, Settings, load_settings
from riskstrat.features import build_features
from riskstrat.registry import validate
from riskstrat.registry.ingest import ingest
from riskstrat.registry.store import connect
from riskstrat.tasks import build_index

pytest.importorskip("riskstrat.synth.generate")

EXTRACT = dt.date(2025, 12, 28)  # tests/conftest.py SMALL_POPULATION["end"]
AS_OF = [dt.date(2025, 3, 3), dt.date(2025, 6, 2), dt.date(2025, 9, 1)]
CUT = max(AS_OF)  # everything B adds or moves is dated after the last as-of date
#: SQL per table: B's version of the table `t` (A's rows read from the parquet file).
LATER = {
    # active diagnoses "resolved" after the extract or long after death; resolutions after CUT
    # moved after the extract; plus diagnoses made after CUT.
    "conditions": f"""
SELECT t.patient_id, t.register, t.diagnosed_on, CASE
  WHEN t.resolved_on > DATE '{CUT}' THEN DATE '{EXTRACT}' + 30
  WHEN t.resolved_on IS NULL AND p.date_of_death IS NOT NULL THEN p.date_of_death + 60
  WHEN t.resolved_on IS NULL AND hash(t.patient_id, t.register) % 3 = 0
    THEN DATE '{EXTRACT}' + 90
  ELSE t.resolved_on END AS resolved_on
FROM t LEFT JOIN p USING (patient_id)
UNION ALL SELECT patient_id, register, DATE '{CUT}' + 1 + CAST(hash(patient_id) % 90 AS INT),
  NULL FROM t WHERE hash(patient_id, register, 'new') % 5 = 0""",
    # open spells and discharges after CUT moved after the extract; discharges on/after a
    # death moved 30 days after it; plus admissions after CUT.
    "spells": f"""
SELECT t.* REPLACE (CASE
  WHEN t.discharge_date IS NULL OR t.discharge_date > DATE '{CUT}' THEN DATE '{EXTRACT}' + 10
  WHEN t.discharge_date >= p.date_of_death THEN p.date_of_death + 30
  ELSE t.discharge_date END AS discharge_date)
FROM t LEFT JOIN p USING (patient_id)
UNION ALL SELECT * REPLACE ('f' || spell_id AS spell_id,
  DATE '{CUT}' + 5 + CAST(hash(spell_id) % 60 AS INT) AS admission_date,
  DATE '{CUT}' + 8 + CAST(hash(spell_id) % 60 AS INT) AS discharge_date)
FROM t WHERE hash(spell_id, 'new') % 4 = 0""",
    # deaths after CUT, and some of the living, dated after the extract date
    "patients": f"""
SELECT * REPLACE (CASE WHEN date_of_death > DATE '{CUT}' THEN DATE '{EXTRACT}' + 300
  WHEN date_of_death IS NULL AND registered_to IS NULL AND hash(patient_id) % 7 = 0
    THEN DATE '{EXTRACT}' + 200 ELSE date_of_death END AS date_of_death) FROM t""",
    "gp_contacts": f"""SELECT * FROM t UNION ALL SELECT * REPLACE (DATE '{CUT}' + 1 +
  CAST(hash(patient_id, contact_date) % 100 AS INT) AS contact_date)
FROM t WHERE hash(patient_id, contact_date, 'new') % 5 = 0""",
    "prescriptions": f"""SELECT * FROM t UNION ALL SELECT * REPLACE (DATE '{CUT}' + 1 +
  CAST(hash(patient_id, issued_on) % 100 AS INT) AS issued_on)
FROM t WHERE hash(patient_id, issued_on, 'new') % 5 = 0""",
    "ae_attendances": f"""SELECT * FROM t UNION ALL SELECT * REPLACE ('f' || attendance_id AS
  attendance_id, CAST(DATE '{CUT}' + 1 + CAST(hash(attendance_id) % 100 AS INT) AS TIMESTAMP)
  + INTERVAL 10 HOUR AS arrival_at) FROM t WHERE hash(attendance_id, 'new') % 5 = 0""",
    "observations": f"""SELECT * FROM t UNION ALL SELECT * REPLACE (DATE '{CUT}' + 1 +
  CAST(hash(patient_id, observed_on) % 100 AS INT) AS observed_on)
FROM t WHERE hash(patient_id, observed_on, code, 'new') % 5 = 0""",
}


def _settings() -> Settings:
    """Never stop on the reject share: the old rule rejects many rows of B."""
    base = load_settings()
    ingest_cfg = IngestConfig(**{**base.ingest.model_dump(), "max_reject_share": 1.0})
    return base.model_copy(update={"ingest": ingest_cfg})


def _later_extract(source: Path, target: Path) -> Path:
    """A copy of `source` (parquet extract) with future rows and implausible later dates."""
    shutil.copytree(source, target)
    con = duckdb.connect()
    con.execute(f"CREATE VIEW p AS SELECT * FROM read_parquet('{source / 'patients.parquet'}')")
    for name, sql in LATER.items():
        con.execute(f"CREATE OR REPLACE VIEW t AS SELECT * FROM '{source / name}.parquet'")
        out = target / f"{name}.parquet"
        out.unlink()
        con.execute(f"COPY ({sql}) TO '{out}' (FORMAT parquet)")
    con.close()
    return target


def _features(store: Path, index: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    with connect(store) as con:
        return {task: build_features(con, rows, task=task) for task, rows in index.items()}


@pytest.fixture(scope="module")
def stores(small_population: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    home = tmp_path_factory.mktemp("leak-through-ingest")
    later = _later_extract(small_population / "extract", home / "later")
    reports = {}
    for name, source in (("a", small_population / "extract"), ("b", later)):
        reports[name] = ingest(source, extract_date=EXTRACT, store_path=home / f"{name}.duckdb",
                               settings=_settings())  # fmt: skip
    with connect(home / "a.duckdb") as con:
        index = {
            "crisis": build_index(con, "crisis", as_of_dates=AS_OF),
            "readmission_30d": build_index(
                con, "readmission_30d", start="2025-01-01", end=CUT - dt.timedelta(days=1)
            ),
        }
    return {"home": home, "later": later, "reports": reports, "index": index}


def test_later_extract_really_holds_future_rows_and_bad_later_dates(stores: dict) -> None:
    a, b = stores["reports"]["a"], stores["reports"]["b"]
    for name in ("gp_contacts", "prescriptions", "ae_attendances", "spells", "conditions"):
        assert b.tables[name].accepted > a.tables[name].accepted, name
    repaired = {name: t.repaired_by_rule for name, t in b.tables.items() if t.repaired}
    assert repaired["conditions"]["resolved_on"].keys() == {"not_after_extract", "not_after_death"}
    assert repaired["spells"]["discharge_date"].keys() == {"not_after_extract", "not_after_death"}
    assert repaired["patients"]["date_of_death"]["not_after_extract"] > 50
    # No row of A is lost: B rejects only what A rejects (plus future rows after a death).
    assert b.tables["patients"].accepted == a.tables["patients"].accepted
    # (future diagnoses of the dead, and of a register held twice: same new date)
    allowed = {"not_after_death", "duplicate_key", "duplicate_row"}
    assert b.tables["conditions"].rejected_by_rule.keys() <= allowed
    assert all(t.repaired == 0 for t in a.tables.values())


def test_features_at_earlier_dates_are_unchanged_through_ingest(stores: dict) -> None:
    home, index = stores["home"], stores["index"]
    assert len(index["crisis"]) > 10_000 and len(index["readmission_30d"]) > 100
    with connect(home / "b.duckdb") as con:
        for task, rows in index.items():
            if task == "crisis":
                pd.testing.assert_frame_equal(build_index(con, task, as_of_dates=AS_OF), rows)
    before, after = _features(home / "a.duckdb", index), _features(home / "b.duckdb", index)
    for task in index:
        pd.testing.assert_frame_equal(before[task], after[task], obj=task)


def test_the_old_rule_would_have_erased_known_facts(
    stores: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Guard against a vacuous audit: with no repairs (a bad later date rejects the row, as
    before), the same later extract changes features at the earlier dates."""
    monkeypatch.setattr(validate, "LATER_DATES", {})
    home, index = stores["home"], stores["index"]
    store = home / "old-rule.duckdb"
    ingest(stores["later"], extract_date=EXTRACT, store_path=store, settings=_settings())
    crisis = index["crisis"]
    with connect(store) as con:
        kept = set(con.execute("SELECT patient_id FROM patients").fetchnumpy()["patient_id"])
        rows = crisis[crisis["patient_id"].isin(kept)].reset_index(drop=True)
        old = build_features(con, rows, task="crisis")
    assert len(rows) < len(crisis)  # patients with a future death dropped whole
    with connect(home / "a.duckdb") as con:
        known = build_features(con, rows, task="crisis")
    changed = [c for c in known.columns[3:] if not known[c].equals(old[c])]
    assert "ltc_count" in changed
