"""Task index rules and label windows on small hand-made registries."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from riskstrat.config import CONFIG_ERROR, UNKNOWN_KEY_CLOSE, ConfigError
from riskstrat.features.audit import memory_registry
from riskstrat.tasks import attach_labels, build_index, load_task
from riskstrat.tasks.index import POPULATION_NEEDS_DATES
from riskstrat.tasks.relation import INDEX_MISSING_COLUMN

D = pd.Timestamp
AS_OF = D("2024-06-01")


def patients(**overrides: list) -> pd.DataFrame:
    n = len(next(iter(overrides.values())))
    base = dict(
        patient_id=[f"p{i}" for i in range(n)],
        practice_code=["P1"] * n,
        date_of_birth=[D("1950-01-01")] * n,
        sex=["F"] * n,
        ethnicity=["White"] * n,
        imd_decile=[5] * n,
        registered_from=[D("2000-01-01")] * n,
        registered_to=[None] * n,
        date_of_death=[None] * n,
        lives_alone=[False] * n,
        care_home=[False] * n,
        data_opt_out=[False] * n,
    )
    return pd.DataFrame({**base, **overrides})


def spells(rows: list[tuple]) -> pd.DataFrame:
    """rows: (spell_id, patient_id, admission, discharge, method, destination, diagnosis)."""
    cols = [
        "spell_id",
        "patient_id",
        "admission_date",
        "discharge_date",
        "admission_method",
        "discharge_destination",
        "primary_diagnosis",
    ]
    frame = pd.DataFrame(rows, columns=cols)
    for c in ("admission_date", "discharge_date"):
        frame[c] = pd.to_datetime(frame[c])
    return frame


def test_crisis_index_registered_and_living_at_as_of() -> None:
    pts = patients(
        patient_id=["ok", "new_today", "left_before", "left_today", "died_before", "died_today"],
        registered_from=[D("2020-01-01"), AS_OF, *[D("2020-01-01")] * 4],
        registered_to=[None, None, D("2024-05-31"), AS_OF, None, None],
        date_of_death=[None, None, None, None, D("2024-05-31"), AS_OF],
    )
    con = memory_registry({"patients": pts})
    index = build_index(con, "crisis", as_of_dates=[AS_OF, "2024-06-08"])
    at = index[index["index_date"] == AS_OF]["patient_id"].tolist()
    assert at == ["died_today", "left_today", "ok"]  # events during day D happen after 00:00
    later = index[index["index_date"] == D("2024-06-08")]["patient_id"].tolist()
    assert later == ["new_today", "ok"]
    assert str(index["index_date"].dtype).startswith("datetime64")
    with pytest.raises(ValueError) as err:
        build_index(con, "crisis")
    assert str(err.value) == POPULATION_NEEDS_DATES.format(task="crisis")


def _crisis_registry() -> tuple:
    pts = patients(
        patient_id=["before", "first", "last", "after", "elective", "open", "dies"],
        date_of_death=[None] * 6 + [D("2024-07-01")],
    )
    rows = [
        ("s1", "before", "2024-05-31", "2024-06-03", "emergency", "home", None),
        ("s2", "first", "2024-06-01", "2024-06-03", "emergency", "home", None),
        ("s3", "last", "2024-08-29", "2024-09-01", "emergency", "home", None),  # day 89
        ("s4", "after", "2024-08-30", "2024-09-01", "emergency", "home", None),  # day 90
        ("s5", "elective", "2024-06-10", "2024-06-12", "elective", "home", None),
        ("s6", "open", "2024-05-01", None, "emergency", None, None),
    ]
    con = memory_registry({"patients": pts, "spells": spells(rows)})
    index = pd.DataFrame({"patient_id": pts["patient_id"], "index_date": AS_OF})
    return con, index


def test_crisis_label_window_is_index_to_horizon() -> None:
    con, index = _crisis_registry()
    labelled = attach_labels(con, "crisis", index, extract_date="2024-12-31")
    got = dict(zip(labelled["patient_id"], labelled["label"].tolist(), strict=True))
    assert got == {
        "before": 0,
        "first": 1,
        "last": 1,
        "after": 0,
        "elective": 0,
        "open": 0,
        "dies": 0,
    }
    assert str(labelled["label"].dtype) == "Int8"


def test_count_death_and_365_day_horizon() -> None:
    con, index = _crisis_registry()
    task = load_task("crisis")
    sparra = task.model_copy(
        update={"label": task.label.model_copy(update={"horizon_days": 365, "count_death": True})}
    )
    labelled = attach_labels(con, sparra, index, extract_date="2025-05-31")
    got = dict(zip(labelled["patient_id"], labelled["label"].tolist(), strict=True))
    assert got["dies"] == 1 and got["after"] == 1 and got["before"] == 0


def test_label_is_null_until_the_window_is_inside_the_extract() -> None:
    con, index = _crisis_registry()
    # the 90-day window from 2024-06-01 ends on 2024-08-29 (its last day)
    assert attach_labels(con, "crisis", index, extract_date="2024-08-29")["label"].notna().all()
    assert attach_labels(con, "crisis", index, extract_date="2024-08-28")["label"].isna().all()


def _readmission_registry() -> tuple:
    pts = patients(
        patient_id=["a", "b", "c", "d"], date_of_death=[None, None, D("2024-03-10"), None]
    )
    rows = [
        ("i1", "a", "2024-03-01", "2024-03-05", "emergency", "home", "I50"),
        ("r1", "a", "2024-04-03", "2024-04-06", "emergency", "home", "I50"),  # day 29: counts
        ("i2", "a", "2024-04-06", "2024-04-06", "emergency", "home", "J44"),  # same-day spell
        ("e1", "a", "2024-04-20", "2024-04-21", "elective", "home", "Z51"),  # planned: no
        ("x1", "b", "2024-03-01", "2024-03-02", "emergency", "died", "I21"),
        ("x2", "b", "2024-03-03", "2024-03-04", "emergency", "other_hospital", "I21"),
        ("x3", "b", "2024-03-05", "2024-03-07", "maternity", "home", "O80"),
        ("x4", "b", "2024-03-08", "2024-03-09", "emergency", "home", "O99"),
        ("x5", "c", "2024-03-01", "2024-03-10", "emergency", "home", "C78"),  # died that day
        ("x6", "d", "2024-03-01", None, "emergency", None, "J18"),  # still in hospital
        ("i3", "d", "2024-05-01", "2024-05-03", "elective", "care_home", "M16"),
        ("r3", "d", "2024-06-02", "2024-06-04", "emergency", "home", "J18"),  # day 30: no
    ]
    return memory_registry({"patients": pts, "spells": spells(rows)})


def test_readmission_index_follows_nhs_exclusions() -> None:
    con = _readmission_registry()
    index = build_index(con, "readmission_30d")
    assert index["index_spell_id"].tolist() == ["i1", "i2", "r1", "e1", "i3", "r3"]
    assert (
        index["index_date"]
        == index["index_spell_id"].map(
            {
                "i1": D("2024-03-05"),
                "r1": D("2024-04-06"),
                "i2": D("2024-04-06"),
                "e1": D("2024-04-21"),
                "i3": D("2024-05-03"),
                "r3": D("2024-06-04"),
            }
        )
    ).all()
    window = build_index(con, "readmission_30d", start="2024-04-06", end="2024-05-03")
    assert window["index_spell_id"].tolist() == ["i2", "r1", "e1", "i3"]
    listed = build_index(con, "readmission_30d", as_of_dates=["2024-05-04"])  # D-7 .. D-1
    assert listed["index_spell_id"].tolist() == ["i3"]


def test_readmission_labels() -> None:
    con = _readmission_registry()
    index = build_index(con, "readmission_30d")
    labelled = attach_labels(con, "readmission_30d", index, extract_date="2024-12-31")
    got = dict(zip(labelled["index_spell_id"], labelled["label"].tolist(), strict=True))
    # i1 -> r1 on day 29; r1 -> i2 admitted on its discharge day; i2 never labels itself
    assert got == {"i1": 1, "r1": 1, "i2": 0, "e1": 0, "i3": 0, "r3": 0}
    immature = attach_labels(con, "readmission_30d", index, extract_date="2024-06-05")
    assert immature.set_index("index_spell_id")["label"].isna().to_dict() == {
        "i1": False,
        "r1": False,
        "i2": False,
        "e1": False,
        "i3": False,
        "r3": True,
    }


def test_labels_see_only_their_window() -> None:
    """Moving events outside [index, index + horizon) never changes a label."""
    con = _readmission_registry()
    index = build_index(con, "readmission_30d")
    before = attach_labels(con, "readmission_30d", index, extract_date="2024-12-31")
    con.execute("UPDATE spells SET admission_method = 'emergency' WHERE spell_id IN ('x3', 'e1')")
    con.execute(
        "INSERT INTO spells VALUES ('z', 'd', NULL, DATE '2024-05-02', DATE '2024-05-02', "
        "'emergency', NULL, 'home')"
    )  # admitted the day before i3's discharge
    after = attach_labels(con, "readmission_30d", index, extract_date="2024-12-31")
    changed = before["label"].to_numpy() != after["label"].to_numpy()
    # e1 (admitted 2024-04-20) is inside i2's window only (r1 was already labelled 1); z is the
    # day before i3's window and x3 belongs to a patient without an eligible discharge
    assert index.loc[changed, "index_spell_id"].tolist() == ["i2"]


def test_index_frame_must_have_the_task_keys() -> None:
    con = _readmission_registry()
    index = pd.DataFrame({"patient_id": ["a"], "index_date": [D("2024-03-05")]})
    with pytest.raises(ValueError) as err:
        attach_labels(con, "readmission_30d", index, extract_date="2024-12-31")
    assert str(err.value) == INDEX_MISSING_COLUMN.format(
        column="index_spell_id",
        task="readmission_30d",
        needed=["patient_id", "index_date", "index_spell_id"],
    )


def test_task_yaml_errors_name_file_and_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "configs" / "tasks").mkdir(parents=True)
    (tmp_path / "configs" / "riskstrat.yaml").write_text("{}\n")
    bad = tmp_path / "configs" / "tasks" / "crisis.yaml"
    bad.write_text(
        "name: crisis\ndescription: x\nindex: {kind: population}\n"
        "label: {horizon_days: 90, horizn: 3}\n"
    )
    monkeypatch.setenv("RISKSTRAT_HOME", str(tmp_path))
    with pytest.raises(ConfigError) as err:
        load_task("crisis")
    problem = UNKNOWN_KEY_CLOSE.format(close="horizon_days")
    assert str(err.value) == CONFIG_ERROR.format(file=bad, key="label.horizn", problem=problem)
