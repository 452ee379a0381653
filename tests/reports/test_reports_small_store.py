"""The report on the real small synthetic store, scored by a champion trained with the real
training code: its groups, registers and matured labels are the model's own definitions."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskstrat.config import Paths, Settings
from riskstrat.features import build_features, decode
from riskstrat.registry.store import connect
from riskstrat.reports.cohort import MATRIX_MISSING, people_frame
from riskstrat.reports.commissioner import write_report
from riskstrat.reports.section_performance import NO_MATURED
from riskstrat.reports.settings import ReportConfig
from riskstrat.slices import assign_slices
from riskstrat.tasks import attach_labels, build_index, load_task

pytest.importorskip("riskstrat.synth.generate")
pytestmark = pytest.mark.slow
AS_OF = date(2025, 12, 22)
PREVIOUS = date(2025, 12, 15)
MATURED = date(2025, 9, 22)  # label window [09-22, 12-21) lies inside the 2025-12-28 extract
EXTRACT = date(2025, 12, 28)
CONFIG = ReportConfig(registers=("HF", "COPD", "DM", "CKD", "PC"))


@pytest.fixture(scope="module")
def scored(
    small_store: Path, fast_champions: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict:
    """A copy of the small store with crisis scores at three dates from a trained champion."""
    from riskstrat.outreach.scoring import score

    home = tmp_path_factory.mktemp("report-small-store")
    settings = Settings(
        paths=Paths(data_dir=home, store=home / "store.duckdb", out_dir=home / "out",
                    source_dir=home / "extract", mlflow_uri=f"sqlite:///{fast_champions}")
    )  # fmt: skip
    shutil.copy(small_store, settings.paths.store)
    con = connect(settings.paths.store, read_only=False)
    today = None
    for day in (MATURED, PREVIOUS, AS_OF):
        today = score(con, as_of=day, settings=settings, tasks=("crisis",))
    paths = write_report(con, as_of=AS_OF, run_dir=home / "run", settings=settings, config=CONFIG)
    yield {"con": con, "settings": settings, "home": home, "today": today, "paths": paths}
    con.close()


def _shown(count: int) -> float | None:
    """The published value of a true count under the default rule (None = suppressed)."""
    return None if 1 <= count <= 7 else 5 * np.floor(count / 5 + 0.5)


def _agg(paths: dict) -> pd.DataFrame:
    return pd.read_csv(paths["aggregates"], dtype={"group": "str"}, keep_default_na=False,
                       na_values=[""])  # fmt: skip


def _assert_published(agg: pd.DataFrame, section: str, group_type: str, counts: pd.Series):
    sel = agg[(agg.section == section) & (agg.measure == "people")]
    sel = sel[sel.dimension == group_type].set_index("group")
    assert set(counts.index) <= set(sel.index)
    for group, n in counts.items():
        shown = _shown(int(n))
        if shown is None:
            assert sel.at[group, "suppressed"], (group_type, group)
        elif not sel.at[group, "suppressed"]:  # a secondary suppression may hide it too
            assert sel.at[group, "value"] == shown, (group_type, group, n)


def test_groups_and_registers_are_the_models_own(scored) -> None:
    """Counts per slice and register equal those of the full feature matrix the model scores."""
    con = scored["con"]
    index = build_index(con, "crisis", as_of_dates=[AS_OF])
    matrix = build_features(con, index, task="crisis")
    assert len(matrix) == len(scored["today"])  # the report covers everyone scored
    slices = assign_slices(decode(matrix), names=("age_band", "sex", "imd_quintile", "ltc_count"))
    agg = _agg(scored["paths"])
    for name in slices.columns:
        _assert_published(agg, "equity", name, slices[name].value_counts())
    registers = pd.Series(
        {code: int((matrix[f"reg_{code.lower()}"] == 1).sum()) for code in CONFIG.registers}
    )
    _assert_published(agg, "equity", "register", registers[registers > 0])


def test_matured_window_uses_the_tasks_labels(scored) -> None:
    con = scored["con"]
    rows = con.execute(
        "SELECT patient_id, index_date, risk FROM scores WHERE task = 'crisis' AND as_of = ?",
        [MATURED],
    ).df()
    labels = attach_labels(con, load_task("crisis"), rows, extract_date=EXTRACT)["label"]
    assert labels.notna().all()
    agg = _agg(scored["paths"]).query("section == 'performance' and dimension == 'ics'")
    values = agg.set_index("measure")["value"]
    assert values["people"] == _shown(len(rows))
    assert values["admitted"] == _shown(int(labels.sum()))
    expected = rows["risk"].sum()
    # from the published (rounded) admitted count, published to 2 decimals
    published = _shown(int(labels.sum())) / expected
    assert values["observed_to_expected"] == pytest.approx(published, abs=0.006)
    assert 0.55 < values["auroc"] <= 1.0


def test_first_report_without_matured_scores(scored) -> None:
    """The first scored date has nothing one horizon old: section 5 says so, nothing fails."""
    paths = write_report(scored["con"], as_of=MATURED, run_dir=scored["home"] / "first",
                         settings=scored["settings"], config=CONFIG)  # fmt: skip
    perf = _agg(paths).query("section == 'performance'")
    assert perf.empty
    assert NO_MATURED in paths["report"].read_text()


def test_the_runs_matrix_gives_the_same_report(scored) -> None:
    """A run passes the matrix it scored (features built once): same aggregates as the loader."""
    con = scored["con"]
    index = build_index(con, "crisis", as_of_dates=[AS_OF])
    matrix = build_features(con, index, task="crisis")
    today = scored["today"]
    assert (today["patient_id"].to_numpy() == matrix["patient_id"].to_numpy()).all()
    cohort = matrix.assign(risk=today["risk"].to_numpy())
    paths = write_report(con, as_of=AS_OF, run_dir=scored["home"] / "run2",
                         settings=scored["settings"], config=CONFIG, cohort=cohort)  # fmt: skip
    assert paths["aggregates"].read_bytes() == scored["paths"]["aggregates"].read_bytes()
    assert paths["report"].read_text() == scored["paths"]["report"].read_text()


def test_no_identifier_in_the_outputs(scored) -> None:
    con = scored["con"]
    contacts = con.execute("SELECT patient_id, nhs_number, family_name FROM contacts").df()
    text = "\n".join(p.read_text() for p in scored["paths"].values())
    for column in contacts.columns:
        found = [v for v in contacts[column].dropna() if len(v) > 5 and v in text]
        assert not found, f"{column} values in the report: {found[:3]}"


def test_a_matrix_without_the_report_columns_is_refused() -> None:
    frame = pd.DataFrame({"patient_id": ["a"], "practice_code": ["P"], "risk": [0.1], "age": [50]})
    with pytest.raises(ValueError) as err:
        people_frame(frame, practices=pd.DataFrame(), registers=("HF",))
    missing = ["sex", "ethnicity", "imd_decile", "ltc_count", "reg_hf"]
    assert str(err.value) == MATRIX_MISSING.format(columns=missing)
