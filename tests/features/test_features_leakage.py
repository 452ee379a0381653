"""Leakage guarantees: the future of an index date never reaches a feature.

`leakage_audit` appends events on/after each index date to every event table and moves every
date unknown at index (open discharges, resolutions, deaths, deregistrations) to other future
dates; no feature may change. The same audit must catch a deliberately leaky copy of the SQL.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from feature_dates import AS_OF, D
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from riskstrat.features import build_features, load_catalogue
from riskstrat.features.audit import future_perturbed, leakage_audit, memory_registry
from riskstrat.features.catalogue import feature_dir
from riskstrat.registry.contract import ADMISSION_METHODS, DISCHARGE_DESTINATIONS, REGISTERS
from riskstrat.tasks import build_index


def test_crisis_features_blind_to_the_future(tables: dict) -> None:
    con = memory_registry(tables)
    index = build_index(con, "crisis", as_of_dates=[AS_OF])
    assert len(index) == 4
    assert leakage_audit(tables, index, task="crisis") == []


def test_readmission_features_blind_to_after_discharge(tables: dict) -> None:
    con = memory_registry(tables)
    index = build_index(con, "readmission_30d", start="2024-05-10", end="2024-05-10")
    assert index["index_spell_id"].tolist() == ["s3"]
    assert leakage_audit(tables, index, task="readmission_30d") == []


def test_the_perturbation_really_changes_the_future(tables: dict) -> None:
    """Guard against a vacuous audit: features at a later date do see the perturbation."""
    cut = pd.Series([AS_OF] * 4, index=["a", "b", "c", "d"])
    later = pd.DataFrame({"patient_id": ["a", "b", "c", "d"], "index_date": [D("2024-07-01")] * 4})
    before = build_features(memory_registry(tables), later, task="crisis")
    after = build_features(
        memory_registry(future_perturbed(tables, cutoffs=cut)), later, task="crisis"
    )
    changed = [c for c in before.columns[3:] if not before[c].equals(after[c])]
    for column in (
        "emerg_adm_90d",
        "ae_90d",
        "gp_missed_90d",
        "opioid_90d",
        "hba1c_latest",
        "reg_af",
        "ltc_count",
        "bed_days_365d",
        "days_since_discharge",
        "emerg_adm_all",
        "registers_ever",
        "gp_per_year_3y",
        "repeat_items_180d",
    ):
        assert column in changed


def _leaky_copy(tmp_path: Path, group: str, old: str, new: str) -> Path:
    folder = tmp_path / "features"
    shutil.copytree(feature_dir(), folder)
    sql = folder / f"{group}.sql"
    text = sql.read_text()
    assert old in text
    sql.write_text(text.replace(old, new))
    return folder


@pytest.mark.parametrize(
    ("group", "old", "new", "leaks"),
    [
        (
            "hospital_use",
            "s.admission_date < w.index_date",
            "s.admission_date <= w.index_date",
            "emerg_adm_90d",
        ),
        (
            "ae",
            "CAST(a.arrival_at AS DATE) < i.index_date",
            "CAST(a.arrival_at AS DATE) <= i.index_date",
            "ae_90d",
        ),
        (
            "observations",
            "o.observed_on < i.index_date",
            "o.observed_on <= i.index_date",
            "egfr_latest",
        ),
        ("conditions", "c.resolved_on >= i.index_date", "c.resolved_on > i.index_date", "reg_ckd"),
        (
            "history",
            "WHERE c.diagnosed_on < b.index_date",
            "WHERE c.diagnosed_on <= b.index_date",
            "registers_ever",
        ),
        (
            "history",
            "WHERE s.admission_date < b.index_date",
            "WHERE s.admission_date <= b.index_date",
            "emerg_adm_all",
        ),
        (
            "history",
            "g.contact_date < b.index_date AND",
            "g.contact_date <= b.index_date AND",
            "gp_per_year_3y",
        ),
    ],
)
def test_audit_catches_a_leaky_feature(
    tables: dict, tmp_path: Path, group: str, old: str, new: str, leaks: str
) -> None:
    leaky = load_catalogue(_leaky_copy(tmp_path, group, old, new))
    con = memory_registry(tables)
    index = build_index(con, "crisis", as_of_dates=[AS_OF])
    assert leaks in leakage_audit(tables, index, task="crisis", catalogue=leaky)


def test_audit_catches_a_leaky_discharge_mask(tables: dict, tmp_path: Path) -> None:
    leaky = load_catalogue(
        _leaky_copy(
            tmp_path,
            "hospital_use",
            "CASE WHEN s.discharge_date < w.index_date THEN s.discharge_date END",
            "s.discharge_date",
        )
    )
    con = memory_registry(tables)
    index = build_index(con, "crisis", as_of_dates=[AS_OF])
    assert "bed_days_90d" in leakage_audit(tables, index, task="crisis", catalogue=leaky)


def test_audit_catches_a_leaky_length_of_stay(tables: dict, tmp_path: Path) -> None:
    """mean_los_all may only average stays discharged before index: without the mask an open
    stay's (future) discharge leaks in."""
    leaky = load_catalogue(
        _leaky_copy(
            tmp_path,
            "history",
            "AVG(date_diff('day', s.admission_date, s.discharge_date))\n"
            "      FILTER (WHERE s.discharge_date < b.index_date) AS mean_los_all",
            "AVG(date_diff('day', s.admission_date, s.discharge_date)) AS mean_los_all",
        )
    )
    con = memory_registry(tables)
    index = build_index(con, "crisis", as_of_dates=[AS_OF])
    assert "mean_los_all" in leakage_audit(tables, index, task="crisis", catalogue=leaky)


# -- property: random small registries -------------------------------------------------------

START = D("2022-01-01")
day = st.integers(min_value=0, max_value=1000)


def _dates(offsets: list[int]) -> list[pd.Timestamp]:
    return [START + pd.Timedelta(days=o) for o in offsets]


@st.composite
def registries(draw: st.DrawFn) -> tuple[dict, pd.Timestamp]:
    n = draw(st.integers(min_value=1, max_value=4))
    pids = [f"p{i}" for i in range(n)]
    pick = st.sampled_from(pids)

    def events(size: int, **cols: st.SearchStrategy) -> pd.DataFrame:
        rows = draw(st.lists(st.fixed_dictionaries({"patient_id": pick, **cols}), max_size=size))
        return pd.DataFrame(rows, columns=["patient_id", *cols])

    spells = events(
        6,
        adm=day,
        stay=st.none() | st.integers(0, 40),
        admission_method=st.sampled_from(ADMISSION_METHODS),
        primary_diagnosis=st.sampled_from(["I50", "J44", "C78", "O80", "K72", None]),
        discharge_destination=st.sampled_from(DISCHARGE_DESTINATIONS),
    )
    spells["spell_id"] = [f"s{i}" for i in range(len(spells))]
    spells["admission_date"] = _dates(spells["adm"].tolist())
    spells["discharge_date"] = [
        None if s is None or pd.isna(s) else a + pd.Timedelta(days=int(s))
        for a, s in zip(spells["admission_date"], spells["stay"], strict=True)
    ]
    conditions = events(
        5, register=st.sampled_from(REGISTERS), dx=day, res=st.none() | st.integers(0, 500)
    )
    conditions["diagnosed_on"] = _dates(conditions["dx"].tolist())
    conditions["resolved_on"] = [
        None if r is None or pd.isna(r) else d + pd.Timedelta(days=int(r))
        for d, r in zip(conditions["diagnosed_on"], conditions["res"], strict=True)
    ]
    ae = events(5, t=day, disposal=st.just("discharged"))
    ae["attendance_id"] = [f"a{i}" for i in range(len(ae))]
    ae["arrival_at"] = _dates(ae["t"].tolist())
    gp = events(5, t=day, mode=st.sampled_from(["home_visit", "telephone"]), attended=st.booleans())
    gp["contact_date"] = _dates(gp["t"].tolist())
    rx = events(5, t=day, bnf_code=st.sampled_from(["0208020Z0", "0407020A0", "0101", "02"]))
    rx["issued_on"] = _dates(rx["t"].tolist())
    obs = events(
        5, t=day, code=st.sampled_from(["hba1c", "egfr", "bmi", "efi_score"]), value=st.floats(0, 1)
    )
    obs["observed_on"] = _dates(obs["t"].tolist())
    death = [draw(st.none() | day) for _ in pids]
    patients = pd.DataFrame(
        {
            "patient_id": pids,
            "practice_code": "P1",
            "date_of_birth": D("1950-01-01"),
            "sex": "F",
            "ethnicity": "White",
            "imd_decile": 3,
            "registered_from": D("2000-01-01"),
            "registered_to": None,
            "date_of_death": [None if x is None else _dates([x])[0] for x in death],
            "lives_alone": False,
            "care_home": False,
            "data_opt_out": False,
        }
    )
    tables = {
        "patients": patients,
        "spells": spells,
        "conditions": conditions,
        "ae_attendances": ae,
        "gp_contacts": gp,
        "prescriptions": rx,
        "observations": obs,
    }
    return tables, START + pd.Timedelta(days=draw(day))


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(registries())
def test_property_crisis_features_blind_to_the_future(case: tuple[dict, pd.Timestamp]) -> None:
    tables, as_of = case
    index = pd.DataFrame({"patient_id": tables["patients"]["patient_id"], "index_date": as_of})
    assert leakage_audit(tables, index, task="crisis") == []


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(registries())
def test_property_readmission_features_blind_to_after_discharge(
    case: tuple[dict, pd.Timestamp],
) -> None:
    tables, _ = case
    index = build_index(memory_registry(tables), "readmission_30d")
    assume(not index.empty)
    assert leakage_audit(tables, index, task="readmission_30d") == []


def test_data_tests_also_stop_a_same_day_leak(tables: dict, tmp_path: Path) -> None:
    """With the checks on, the leaky copy fails loudly: an event 0 days before index is a leak."""
    leaky = load_catalogue(
        _leaky_copy(
            tmp_path,
            "ae",
            "CAST(a.arrival_at AS DATE) < i.index_date",
            "CAST(a.arrival_at AS DATE) <= i.index_date",
        )
    )
    tables["ae_attendances"].loc[0, "arrival_at"] = AS_OF + pd.Timedelta(hours=9)
    con = memory_registry(tables)
    index = build_index(con, "crisis", as_of_dates=[AS_OF])
    with pytest.raises(ValueError, match="column 'days_since_ae', test 'min'"):
        build_features(con, index, task="crisis", catalogue=leaky)
