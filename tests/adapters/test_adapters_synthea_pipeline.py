"""The whole pipeline on the Synthea sample: import-synthea -> ingest -> features -> score (with
champions trained on the synthetic population) -> per-practice outreach lists, all via the CLI.

The sample's extract date is Tuesday 2025-06-10. The list date is the next day; the sample's
latest discharge is 2025-03-01, so on 2025-06-11 there is nobody to list for post-discharge. A
second, back-dated run on Monday 2025-03-03 covers that Saturday's two discharges.
"""

from __future__ import annotations

import csv
import zipfile
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from click.testing import CliRunner

from riskstrat.cli import main
from riskstrat.features import build_features, load_catalogue
from riskstrat.outreach.config import load_outreach_config, load_pathways
from riskstrat.outreach.scoring import readmission_window, task_index
from riskstrat.registry.contract import TABLES

SAMPLE = Path("/work/shared/data/synthea_small")
EXTRACT_DATE = date(2025, 6, 10)
AS_OF = date(2025, 6, 11)  # the day after the extract: crisis lists
BACK_DATED = date(2025, 3, 3)  # Monday after the sample's last discharges (Saturday 1 March)
#: Features the Synthea export cannot fill: no living arrangements, no observations.csv.
UNSUPPORTED = {
    "lives_alone", "hba1c_latest", "egfr_latest", "bmi_latest", "efi_latest", "efi_mean", "efi_max",
}  # fmt: skip

#: Fast model settings (the pipeline is under test here, not model quality).

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not SAMPLE.is_dir(), reason="shared Synthea sample not present"),
]


@pytest.fixture(scope="module")
def champions(fast_champions: Path) -> Path:
    """Champions trained on the synthetic population: the 105 Synthea people are far too few."""
    return fast_champions


def _invoke(*args: str) -> str:
    run = CliRunner().invoke(main, list(args))
    assert run.exit_code == 0, run.output + repr(run.exception)
    return run.output


@pytest.fixture(scope="module")
def pipeline(champions: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Run the CLI end to end on the sample, twice (the day after the extract, back-dated)."""
    root = tmp_path_factory.mktemp("synthea-pipeline")
    extract, store, out = root / "extract", root / "store.duckdb", root / "out"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{champions}")
        mp.setenv("RISKSTRAT_DATA_DIR", str(root / "data"))
        mp.setenv("RISKSTRAT_OUT_DIR", str(out))
        _invoke("import-synthea", str(SAMPLE), "--out", str(extract))
        _invoke("ingest", str(extract), "--extract-date", EXTRACT_DATE.isoformat(),
                "--store", str(store))  # fmt: skip
        printed = {}
        for day in (AS_OF, BACK_DATED):
            printed[day] = _invoke("score", "--as-of", day.isoformat(), "--store", str(store))
        # 2025-06-11 has no discharge since the previous working day: scored with nobody to
        # list (score_runs records it), so all five pathways run, post_discharge empty.
        for day in (AS_OF, BACK_DATED):
            _invoke("outreach", "--as-of", day.isoformat(), "--store", str(store))
    return {"store": store, "runs": out / "runs", "extract": extract, "printed": printed}


def _tables(store: Path, *names: str) -> list[pd.DataFrame]:
    with duckdb.connect(str(store), read_only=True) as con:
        return [con.execute(f"SELECT * FROM {name}").df() for name in names]


def _lists(run: Path) -> pd.DataFrame:
    """Every list CSV of a run as text, one row per listed person, plus the folder it is in."""
    rows = []
    for path in sorted((run / "practices").glob("*/*.csv")):
        if path.name != "feedback.csv":
            with path.open(newline="") as handle:
                rows += [{**r, "folder": path.parent.name} for r in csv.DictReader(handle)]
    return pd.DataFrame(rows).fillna("")


@pytest.fixture(scope="module")
def listed(pipeline) -> dict[date, pd.DataFrame]:
    """Every practice's CSV rows of each run, with the folder they were found in."""
    return {day: _lists(pipeline["runs"] / day.isoformat()) for day in (AS_OF, BACK_DATED)}


def _xlsx_text(path: Path) -> str:
    """All XML of a workbook (cells, shared strings, validations): what anyone opening it sees."""
    with zipfile.ZipFile(path) as book:
        return "".join(book.read(n).decode() for n in book.namelist() if n.endswith(".xml"))


def test_every_extract_row_reaches_the_store(pipeline) -> None:
    for name in TABLES:
        path = pipeline["extract"] / f"{name}.csv"
        (stored,) = _tables(pipeline["store"], name)
        expected = len(pd.read_csv(path, dtype="str")) if path.exists() else 0
        assert len(stored) == expected, name


def test_scores_cover_the_living_and_the_discharges(pipeline) -> None:
    scores, patients, spells = _tables(pipeline["store"], "scores", "patients", "spells")
    crisis = scores[(scores["task"] == "crisis") & (scores["as_of"] == pd.Timestamp(AS_OF))]
    alive = patients[patients["date_of_death"].isna()]
    assert sorted(crisis["patient_id"]) == sorted(alive["patient_id"])
    assert crisis["risk"].between(0, 1).all() and crisis["risk"].nunique() > 3
    # No discharge since the previous working day on 2025-06-11: nothing to score for readmission.
    assert spells["discharge_date"].max() < pd.Timestamp(EXTRACT_DATE)
    readmission = scores[scores["task"] == "readmission_30d"]
    start, _ = readmission_window(BACK_DATED, config=load_outreach_config())
    window = spells[spells["discharge_date"].between(pd.Timestamp(start), pd.Timestamp(BACK_DATED))]
    assert len(window) == 2
    assert sorted(readmission["index_spell_id"]) == sorted(window["spell_id"])
    assert set(readmission["as_of"]) == {pd.Timestamp(BACK_DATED)}
    assert "readmission_30d: 2 scored" in pipeline["printed"][BACK_DATED]


def test_lists_have_reasons_and_actions(pipeline, listed) -> None:
    pathways = load_pathways(load_outreach_config())
    (practices,) = _tables(pipeline["store"], "practices")
    smallest = int(practices["weekly_capacity"].min())  # the adapter's minimum: a place each
    assert all(p.weekly_allocation(smallest) >= 1 for p in pathways.values())
    for day in (AS_OF, BACK_DATED):
        run = pipeline["runs"] / day.isoformat()
        folders = sorted(p.name for p in (run / "practices").iterdir())
        assert folders == sorted(practices["practice_code"])  # every practice, listed or not
        names = list(pathways)  # every pathway's files, an empty list included
        for code in folders[:3]:
            files = {p.name for p in (run / "practices" / code).iterdir()}
            expected = {f"{p}.{ext}" for p in names for ext in ("csv", "xlsx", "html")}
            assert files == expected | {"feedback.csv"}
    now = listed[AS_OF]
    early = now[now["pathway"] == "early_intervention"]
    assert len(early) > 0 and (early["section"] == "main").any()
    assert (now["reason_1"] != "").mean() > 0.8
    assert (now["actions"] != "").all()
    assert not now.duplicated("patient_id").any()
    assert (now["pathway"] != "post_discharge").all()
    post = listed[BACK_DATED].query("pathway == 'post_discharge'")
    assert len(post) == 2 and (post["section"] == "main").all()
    assert (post["contact_by"] == "2025-03-04").all()  # Saturday counts as Friday: + 2 = Tuesday
    assert (post["reason_1"] != "").all() and (post["actions"] != "").all()


def test_each_practice_sees_only_its_own_patients(pipeline, listed) -> None:
    from riskstrat.outreach.columns import format_nhs_number as spaced

    patients, contacts = _tables(pipeline["store"], "patients", "contacts")
    practice_of = patients.set_index("patient_id")["practice_code"]
    numbers = contacts.assign(practice=contacts["patient_id"].map(practice_of))
    for day, rows in listed.items():
        assert (rows["patient_id"].map(practice_of) == rows["folder"]).all()
        for folder in sorted((pipeline["runs"] / day.isoformat() / "practices").iterdir()):
            own = set(rows.loc[rows["folder"] == folder.name, "patient_id"])
            foreign = numbers.loc[numbers["practice"] != folder.name, "nhs_number"]
            feedback = pd.read_csv(folder / "feedback.csv", dtype="str")
            assert set(feedback["patient_id"]) == own
            mine = list(numbers.loc[numbers["patient_id"].isin(own), "nhs_number"])
            for path in sorted(folder.glob("*.*")):
                text = _xlsx_text(path) if path.suffix == ".xlsx" else path.read_text()
                # the raw number (CSV) or as shown to staff, spaced 3 3 4 (XLSX, HTML)
                assert not any(n in text or spaced(n) in text for n in foreign), path
            shown = "".join(p.read_text() for p in folder.glob("*.html"))
            assert all(spaced(n) in shown for n in mine)  # and its own listed people are there


def test_features_are_filled_where_synthea_has_data(pipeline) -> None:
    """No NaN in columns Synthea supports; a "since" column is NaN exactly when there was no
    such event before the index date (or the register is not held)."""
    config = load_outreach_config()
    with duckdb.connect(str(pipeline["store"]), read_only=True) as con:
        for task, day in (("crisis", AS_OF), ("readmission_30d", BACK_DATED)):
            index = task_index(con, task, as_of=day, config=config)
            matrix = build_features(con, index, task=task)
            assert len(matrix) > 0
            since = {
                "days_since_ae": _had(con, matrix, "ae_attendances", "arrival_at::DATE"),
                "days_since_discharge": _had(con, matrix, "spells", "discharge_date", OTHER_SPELL),
                "days_since_emerg_adm": _had(
                    con, matrix, "spells", "admission_date", f"{OTHER_SPELL} AND {EMERGENCY}"
                ),
                # the last emergency admission's stay ended before index (Synthea has no
                # transfer legs: the stay is that spell)
                "days_since_emerg_discharge": _had(
                    con, matrix, "spells", "discharge_date", LAST_EMERGENCY_STAY
                ),
            }
            # the history group: NULL exactly when no spell was discharged before index
            since["last_discharge_method"] = since["days_since_discharge"]
            since["mean_los_all"] = since["days_since_discharge"]
            for reg in ("hf", "copd", "dm", "ckd", "dem", "can"):
                since[f"years_since_{reg}"] = matrix[f"reg_{reg}"] == 1
            for name in load_catalogue().columns(task):
                column = matrix[name]
                if name in UNSUPPORTED:
                    assert column.isna().all(), name
                elif name in since:
                    assert (column.notna() == since[name]).all(), name
                else:
                    assert column.notna().all(), name
            assert matrix["imd_decile"].between(1, 10).all()  # v3 export: income deciles


OTHER_SPELL = "t.spell_id IS DISTINCT FROM i.index_spell_id"  # not the readmission index spell
EMERGENCY = "t.admission_method = 'emergency'"
#: The last emergency admission before index (its discharge, also before index, ended the stay).
LAST_EMERGENCY_STAY = (
    f"{OTHER_SPELL} AND {EMERGENCY} AND t.admission_date = (SELECT MAX(u.admission_date) "
    "FROM spells AS u WHERE u.patient_id = i.patient_id AND u.admission_date < i.index_date "
    "AND u.admission_method = 'emergency' AND u.spell_id IS DISTINCT FROM i.index_spell_id)"
)


def _had(con, matrix: pd.DataFrame, table: str, day: str, where: str = "TRUE") -> pd.Series:
    """Per index row: did the patient have a `table` event dated before the index date?"""
    keys = matrix.reindex(columns=["patient_id", "index_date", "index_spell_id"])
    con.register("idx", keys.astype({"index_spell_id": "str"}).reset_index())
    hits = con.execute(
        f"SELECT DISTINCT i.index FROM idx AS i JOIN {table} AS t "
        f"ON t.patient_id = i.patient_id AND {day} < i.index_date AND {where}"
    ).df()
    con.unregister("idx")
    return matrix.index.to_series().isin(hits["index"])
