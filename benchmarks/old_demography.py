"""The synthetic world's old over calendar time (docs/synthetic.md, "The old are not in
demographic equilibrium"), from a population's truth files:

    python benchmarks/old_demography.py --truth DIR/truth

(DIR: the `--out` of `riskstrat synth`; the benchmarks' 200k one is work/quality/200000/pop.)
Every 13 weeks from the first day: people alive and registered by age band, their mean age and
mean latent frailty at that date (frailty0 + drift x days; the jumps after emergency admissions
left out); then each year's one-year mortality by band, and the oracle's mean 30-day
readmission risk of eligible discharges by quarter, 85+ against the rest. Prints a table; reads
only the truth files (no store, no model).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

BANDS = ((75, 85), (85, 200))


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


if __name__ == "__main__":
    main()
