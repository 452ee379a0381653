"""The level model's input from the store: weekly emergency admissions per registered person.

The I/O edge of riskstrat.models.level. Weeks end at the training cutoff and go back to the
extract's first activity date (whole weeks only); each week's person-days count the patients
registered and alive on its middle day (x 7), by age band on that day; admissions are emergency
spells admitted in the week, by the patient's age band on the admission date. Nothing dated on
or after the cutoff is read.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pandas as pd

from riskstrat.models.level import WEEK_COLUMNS

#: Age bands (lower bounds, years) that standardise the weekly rate.
AGE_BANDS = (0, 18, 65, 75, 85)

WEEKS_SQL = """
WITH weeks AS (
  SELECT CAST(range AS DATE) AS week_start, CAST(range + INTERVAL 3 DAY AS DATE) AS mid
  FROM range(CAST(? AS TIMESTAMP), CAST(? AS TIMESTAMP), INTERVAL 7 DAY)
),
pop AS (
  SELECT w.week_start, {band_mid} AS age_band, 7 * count(*) AS person_days
  FROM weeks AS w
  JOIN patients AS p
    ON p.registered_from < w.mid
   AND (p.registered_to IS NULL OR p.registered_to >= w.mid)
   AND (p.date_of_death IS NULL OR p.date_of_death >= w.mid)
  GROUP BY ALL
),
adm AS (
  SELECT
    CAST(CAST(? AS DATE) + INTERVAL (7 * floor(date_diff('day', CAST(? AS DATE),
      s.admission_date) / 7)) DAY AS DATE) AS week_start,
    {band_adm} AS age_band,
    count(*) AS admissions
  FROM spells AS s
  JOIN patients AS p ON p.patient_id = s.patient_id
  WHERE s.admission_method = 'emergency'
    AND s.admission_date >= CAST(? AS DATE)
    AND s.admission_date < CAST(? AS DATE)
  GROUP BY ALL
)
SELECT pop.week_start, pop.age_band, coalesce(adm.admissions, 0) AS admissions,
       pop.person_days
FROM pop
LEFT JOIN adm ON adm.week_start = pop.week_start AND adm.age_band = pop.age_band
ORDER BY pop.week_start, pop.age_band
"""


def _band(day: str) -> str:
    age = f"floor(date_diff('day', p.date_of_birth, {day}) / 365.25)"
    cases = " ".join(
        f"WHEN {age} >= {lo} THEN {i}" for i, lo in reversed(list(enumerate(AGE_BANDS)))
    )
    return f"CASE {cases} ELSE 0 END"


def weekly_admissions(con: duckdb.DuckDBPyConnection, *, start: date, cutoff: date) -> pd.DataFrame:
    """WEEK_COLUMNS for the whole weeks in [start, cutoff), the last one ending at `cutoff`."""
    n = (cutoff - start).days // 7
    first = cutoff - timedelta(days=7 * n)
    sql = WEEKS_SQL.format(band_mid=_band("w.mid"), band_adm=_band("s.admission_date"))
    frame = con.execute(sql, [first, cutoff, first, first, first, cutoff]).df()
    return frame[list(WEEK_COLUMNS)]
