"""The pure core of the commissioner report: frames in, tidy suppressed aggregates out."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import date

import pandas as pd

from riskstrat.reports.dictionary import round_published
from riskstrat.reports.equity import equity
from riskstrat.reports.frames import (
    COHORT_COLUMNS,
    HEADLINE_COLUMNS,
    MATURED_COLUMNS,
    OUTCOME_COLUMNS,
    PRACTICE_COLUMNS,
    TIDY_COLUMNS,
    require,
)
from riskstrat.reports.performance import performance
from riskstrat.reports.population import (
    activity,
    assign_bands,
    headline,
    outreach,
    pyramid_and_geography,
    trend,
)
from riskstrat.reports.settings import ReportConfig

SECTIONS = ("pyramid", "geography", "equity", "activity", "performance", "outreach", "trend")


def build_aggregates(
    cohort: pd.DataFrame,
    *,
    as_of: date,
    practices: pd.DataFrame,
    matured: pd.DataFrame,
    outcomes: pd.DataFrame,
    history: pd.DataFrame,
    bed_days: pd.Series | None,
    config: ReportConfig,
    listed: Callable[[], Collection[str]] | None = None,
) -> pd.DataFrame:
    """Every section's figures as one tidy frame (TIDY_COLUMNS); no patient-level row.

    cohort: today's scored population (COHORT_COLUMNS); matured: the predictions made one horizon
    ago with their labels (MATURED_COLUMNS; may be empty); outcomes: outreach feedback with the
    patient's practice (OUTCOME_COLUMNS); history: earlier weeks' headline figures
    (HEADLINE_COLUMNS); bed_days: emergency bed days per admitted person over the last horizon.
    listed: None: the cohort's `listed` column says who is on the run's lists; else the cohort
    has none and this is called for the patient ids on the lists once the sections that do not
    count them are made (a run's report passes one that waits for the run's final lists,
    made beside it: runs.steps.report_step). Every figure is rounded to its measure's
    published precision (riskstrat.reports.dictionary).
    """
    needed = COHORT_COLUMNS if listed is None else [c for c in COHORT_COLUMNS if c != "listed"]
    require(cohort, needed, name="cohort")
    require(practices, PRACTICE_COLUMNS, name="practices")
    require(matured, MATURED_COLUMNS, name="matured")
    require(outcomes, OUTCOME_COLUMNS, name="outreach_outcomes")
    require(history, HEADLINE_COLUMNS, name="history")
    practices = practices.astype({"practice_code": str, "pcn_code": str})
    # Every section groups by practice: factorise the 880k codes once, not once per table.
    cohort = cohort.assign(practice_code=cohort["practice_code"].astype("category"))
    bands = assign_bands(cohort["risk"], cohort["patient_id"], config=config)
    # The sections that do not count the listed first, then equity and outreach: in a run the
    # final lists are made meanwhile. The rows are put in section order below (stable sort).
    rows = pyramid_and_geography(cohort, practices, bands=bands, config=config)
    rows += activity(cohort, bed_days=bed_days, config=config)
    rows += performance(matured, practices, config=config)
    today = headline(cohort, as_of=as_of, config=config, bands=bands)
    rows += trend(today, history, config=config)
    if listed is not None:  # `cohort` is this function's own frame (assign above)
        cohort["listed"] = cohort["patient_id"].isin(listed())
    rows += equity(cohort, config=config)
    rows += outreach(cohort, outcomes, practices, as_of=as_of, config=config)
    frame = pd.DataFrame(rows).assign(as_of=as_of.isoformat())[list(TIDY_COLUMNS)]
    order = {s: i for i, s in enumerate(SECTIONS)}
    frame = frame.sort_values("section", key=lambda s: s.map(order), kind="stable")
    return round_published(frame.reset_index(drop=True))
