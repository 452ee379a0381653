"""The synthetic world's old over calendar time (docs/synthetic.md, "The old are not in
demographic equilibrium"), from a population's truth files:

    python benchmarks/old_demography.py --truth DIR/truth

(DIR: the `--out` of `riskstrat synth`; the benchmarks' 200k one is work/quality/200000/pop.)
Every 13 weeks from the first day: people alive and registered by age band, their mean age and
mean latent frailty at that date (frailty0 + drift x days; the jumps after emergency admissions
left out); then each year's one-year mortality by band, and the oracle's mean 30-day
readmission risk of eligible discharges by quarter, 85+ against the rest; and each year's
emergency admissions per 1,000 person-years by age band (does a band's rate rise over the period
beyond the configured trend?). Prints tables; reads only the truth files (no store, no model).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from riskstrat.synth.simulate import EMERGENCY

BANDS = ((75, 85), (85, 200))
RATE_BANDS = ((0, 18), (18, 65), (65, 75), (75, 85), (85, 200))


def alive(persons: pd.DataFrame, day: int) -> pd.Series:
    return (persons.entry <= day) & (persons.leave > day) & (persons.death_day > day)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--truth", type=Path, required=True)
    truth = parser.parse_args().truth
    meta = json.loads((truth / "meta.json").read_text())
    day0, day1 = meta["day0"], meta["day1"]
    persons = pd.read_parquet(truth / "persons.parquet")
    print("date        band   people  share  mean age  mean frailty")
    for day in range(day0, day1, 91):
        here = alive(persons, day)
        age = (day - persons.dob) / 365.25
        frailty = persons.frailty0 + persons.drift * (day - day0)
        for lo, hi in BANDS:
            m = here & (age >= lo) & (age < hi)
            share, when = m.sum() / here.sum(), pd.Timestamp(day, unit="D").date()
            print(f"{when}  {lo}-{min(hi, 120):<3} {m.sum():7d}  {share:5.1%}  "
                  f"{age[m].mean():8.1f}  {frailty[m].mean():12.2f}")  # fmt: skip
    print("\none-year mortality (died within 365 days of the date, of those alive and registered)")
    for day in range(day0, day1 - 365, 365):
        here, age = alive(persons, day), (day - persons.dob) / 365.25
        for lo, hi in BANDS:
            m = here & (age >= lo) & (age < hi)
            died = (persons.death_day[m] < day + 365).mean()
            print(f"{pd.Timestamp(day, unit='D').date()}  {lo}-{min(hi, 120):<3} {died:6.1%}")
    spells = pd.read_parquet(truth / "readmission.parquet")
    spells = spells[spells.eligible].merge(persons[["patient_id", "dob"]], on="patient_id")
    day = (spells.discharge_date - pd.Timestamp("1970-01-01")).dt.days
    old = ((day - spells.dob) / 365.25 >= 85).map({True: "85+", False: "under 85"})
    quarter = spells.discharge_date.dt.to_period("Q")
    table = spells.groupby([quarter, old])["p_readmission"].agg(["size", "mean"]).unstack()
    print("\noracle 30-day readmission risk of eligible discharges by quarter (rows, mean)")
    print(table.round(3).to_string())
    print("\nemergency admissions per 1,000 person-years by age band, each year from the first day")
    print(admission_rates(persons, pd.read_parquet(truth / "spells.parquet"), day0=day0, day1=day1))


def admission_rates(persons: pd.DataFrame, spells: pd.DataFrame, *, day0: int, day1: int):
    """Rows: years from day0; columns: age bands; person-years while alive and registered."""
    dob = persons.dob.to_numpy()
    start = np.maximum(persons.entry.to_numpy(), day0)
    end = np.minimum.reduce([persons.leave.to_numpy(), persons.death_day.to_numpy(),
                             np.full(len(persons), day1)])  # fmt: skip
    emergency = spells[spells.method == EMERGENCY]
    admitted_age = (emergency.admission.to_numpy() - dob[emergency.person.to_numpy()]) / 365.25
    rows = {}
    for lo_day in range(day0, day1, 365):
        hi_day = min(lo_day + 365, day1 + 1)  # the last year may be a few days short
        when = emergency.admission.to_numpy()
        in_year = (when >= lo_day) & (when < hi_day)
        row = {}
        for lo, hi in RATE_BANDS:
            first = np.maximum.reduce([start, np.full(dob.size, lo_day), dob + lo * 365.25])
            last = np.minimum.reduce([end, np.full(dob.size, hi_day), dob + hi * 365.25])
            years = np.clip(last - first, 0, None).sum() / 365.25
            n = (in_year & (admitted_age >= lo) & (admitted_age < hi)).sum()
            row[f"{lo}-{min(hi, 120)}"] = round(1000 * n / years, 1)
        rows[str(pd.Timestamp(lo_day, unit="D").date())] = row
    return pd.DataFrame(rows).T


if __name__ == "__main__":
    main()
