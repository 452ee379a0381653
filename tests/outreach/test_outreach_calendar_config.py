"""Working days (weekends, England bank holidays) and the outreach config files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from riskstrat.config import UNKNOWN_KEY_CLOSE, ConfigError
from riskstrat.outreach.calendar import add_working_days, previous_working_day
from riskstrat.outreach.config import (
    PATHWAY_FILE_MISSING,
    SHARES_OVER_ONE,
    load_outreach_config,
    load_pathways,
)
from riskstrat.outreach.scoring import readmission_window

CONFIG = load_outreach_config()
HOLIDAYS = CONFIG.bank_holidays


def _contact_by(day: str) -> str:
    out = add_working_days(pd.Series([pd.Timestamp(day)]), 2, holidays=HOLIDAYS)
    return out.iloc[0].strftime("%Y-%m-%d %a")


@pytest.mark.parametrize(
    ("discharged", "contact_by"),
    [
        ("2025-06-02", "2025-06-04 Wed"),  # Monday -> Wednesday
        ("2025-06-05", "2025-06-09 Mon"),  # Thursday -> Monday (skips the weekend)
        ("2025-06-06", "2025-06-10 Tue"),  # Friday -> Tuesday
        ("2025-06-07", "2025-06-10 Tue"),  # Saturday -> Tuesday (Mon, Tue)
        ("2025-05-23", "2025-05-28 Wed"),  # Friday before the late-May bank holiday Monday
        ("2025-04-17", "2025-04-23 Wed"),  # Thursday before Easter: Good Friday + Easter Monday
        ("2025-12-24", "2025-12-30 Tue"),  # Christmas Eve: 25, 26 and the weekend skipped
        ("2026-12-24", "2026-12-30 Wed"),  # 2026: Boxing Day substitute on Monday 28th
        ("2027-12-24", "2027-12-30 Thu"),  # 2027: both substitutes (27th, 28th)
    ],
)
def test_contact_by_skips_weekends_and_bank_holidays(discharged, contact_by):
    assert _contact_by(discharged) == contact_by


def test_bank_holidays_have_no_year_limit():
    # England's list comes from the `holidays` package: no hand-typed years (2022 data, 2030 runs).
    assert _contact_by("2022-09-16") == "2022-09-21 Wed"  # the Queen's state funeral, Mon 19th
    assert _contact_by("2030-04-18") == "2030-04-24 Wed"  # Good Friday 19th, Easter Monday 22nd
    assert HOLIDAYS == ()  # configs/outreach.yaml lists one-off closures only


def test_null_discharge_stays_null():
    out = add_working_days(pd.Series([pd.NaT, pd.Timestamp("2025-06-02")]), 2, holidays=HOLIDAYS)
    assert out.isna().tolist() == [True, False]


def test_readmission_window_since_previous_working_day():
    assert readmission_window(date(2025, 6, 2), config=CONFIG) == (
        date(2025, 5, 30),
        date(2025, 6, 2),
    )
    # Tuesday after the late-May bank holiday covers Friday to Monday.
    assert previous_working_day(date(2025, 5, 27), holidays=HOLIDAYS) == date(2025, 5, 23)
    fixed = CONFIG.model_copy(update={"readmission_lookback_days": 7})
    assert readmission_window(date(2025, 6, 2), config=fixed) == (
        date(2025, 5, 26),
        date(2025, 6, 2),
    )


def _copy_pathways(tmp_path: Path) -> Path:
    folder = tmp_path / "outreach"
    folder.mkdir()
    for path in CONFIG.folder.glob("*.yaml"):
        (folder / path.name).write_text(path.read_text())
    return folder


def test_wrong_key_names_file_and_key(tmp_path):
    folder = _copy_pathways(tmp_path)
    path = folder / "rising_risk.yaml"
    path.write_text(path.read_text().replace("min_rise_points:", "min_rise_pts:"))
    with pytest.raises(ConfigError) as err:
        load_pathways(CONFIG, folder=folder)
    problem = UNKNOWN_KEY_CLOSE.format(close="min_rise_points")
    assert f"{path}: select.min_rise_pts: {problem}" in str(err.value)


def test_wrong_type_and_order_key(tmp_path):
    folder = _copy_pathways(tmp_path)
    path = folder / "early_intervention.yaml"
    text = path.read_text()
    path.write_text(text.replace('order_by: ["-risk"]', 'order_by: ["-age"]'))
    with pytest.raises(ConfigError) as err:
        load_pathways(CONFIG, folder=folder)
    assert f"{path}: order_by:" in str(err.value) and "'-age'" in str(err.value)
    path.write_text(text.replace("reserve: 5", "reserve: many"))
    with pytest.raises(ConfigError, match="reserve: Input should be a valid integer"):
        load_pathways(CONFIG, folder=folder)


def test_shares_over_one_and_missing_file(tmp_path):
    folder = _copy_pathways(tmp_path)
    path = folder / "rising_risk.yaml"
    path.write_text(path.read_text().replace("capacity_share: 0.1", "capacity_share: 0.5"))
    with pytest.raises(ConfigError) as err:
        load_pathways(CONFIG, folder=folder)
    assert str(err.value) == SHARES_OVER_ONE.format(file=folder, total=1.4)
    path.unlink()
    with pytest.raises(ConfigError) as err:
        load_pathways(CONFIG, folder=folder)
    assert str(err.value) == PATHWAY_FILE_MISSING.format(file=path, name="rising_risk")


def test_outreach_yaml_wrong_key(tmp_path):
    path = tmp_path / "outreach.yaml"
    path.write_text("respect_opt_out: true\n")
    with pytest.raises(ConfigError) as err:
        load_outreach_config(path)
    problem = UNKNOWN_KEY_CLOSE.format(close="respect_data_opt_out")
    assert f"{path}: respect_opt_out: {problem}" in str(err.value)
