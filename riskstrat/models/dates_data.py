"""Rows and scores for the many-as-of-dates evaluation (riskstrat.models.dates), from the store.

crisis: the held-out test patients (the split's seeded hash; at most `dates_max_patients`, a
seeded sample) indexed at every `dates_every_days` back from the test date, `dates_count` dates,
none before the calibration period ends; labels, features, the model and both oracles on them.
readmission: the test discharges already scored, grouped by the run that lists them (every
`dates_every_days`, ending at the test period's end).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from riskstrat.features import build_features
from riskstrat.logs import log_event, timed
from riskstrat.models.api import Evaluation, FittedModel
from riskstrat.models.config import ModelConfig
from riskstrat.models.data import TaskData
from riskstrat.models.dates import DatesEvaluation, grid, summarise_dates, window_dates
from riskstrat.models.evaluate import MODEL, ORACLE, ORACLE_NO_FORESIGHT, REFERENCES
from riskstrat.models.split import patient_unit
from riskstrat.registry.store import connect
from riskstrat.tasks import attach_labels, build_index

NO_STORE = "no store path given: the crisis index cannot be rebuilt at other as-of dates"


def crisis_dates_frame(
    store_path: Path, data: TaskData, *, config: ModelConfig
) -> tuple[pd.DataFrame, int]:
    """(features + label of the test patients at every as-of date, number of patients)."""
    ev, task = config.evaluation, data.task
    dates = grid(
        last=pd.Timestamp(data.periods.test[1]),
        first=pd.Timestamp(data.periods.calib[1] + timedelta(days=1)),
        every_days=ev.dates_every_days,
        count=ev.dates_count,
    )
    with connect(store_path) as con:
        index = build_index(con, task, as_of_dates=dates).reset_index(drop=True)
        held_out = patient_unit(index["patient_id"], seed=config.seed)
        index = index[held_out < config.split.test_patient_share]
        ids = np.sort(index["patient_id"].astype(str).unique())
        if len(ids) > ev.dates_max_patients:
            rng = np.random.default_rng(config.seed)
            ids = rng.choice(ids, ev.dates_max_patients, replace=False)
        index = index[index["patient_id"].astype(str).isin(set(ids))].reset_index(drop=True)
        labelled = attach_labels(con, task, index, extract_date=data.extract_date)
        labelled = labelled[labelled["label"].notna()].reset_index(drop=True)
        matrix = build_features(con, labelled[task.keys], task=task)
    labelled["index_date"] = pd.to_datetime(labelled["index_date"])
    frame = matrix.merge(
        labelled[[*task.keys, "label"]], on=task.keys, how="inner", validate="one_to_one"
    )
    return frame, len(ids)


def evaluate_dates(
    model: FittedModel,
    data: TaskData,
    *,
    config: ModelConfig,
    truth_dir: Path,
    store_path: Path | None,
    test_evaluation: Evaluation,
) -> DatesEvaluation | None:
    """Model vs the full and no-foresight oracles over many as-of dates (None, logged, when
    the rows cannot be built)."""
    from riskstrat.models.train import no_foresight_scores, oracle_scores

    ev = config.evaluation
    draws: int | None = None
    notes: dict[str, str] = {}
    with timed("models.dates", task=config.task):
        if data.task.has_index_spell:
            test = model.rows("test").reset_index(drop=True)
            y = test["label"].to_numpy(dtype=float)
            scores = {k: v for k, v in test_evaluation.scores.items() if k in (MODEL, *REFERENCES)}
            as_of = window_dates(
                test["index_date"], last=pd.Timestamp(data.periods.test[1]),
                every_days=ev.dates_every_days,
            )  # fmt: skip
            patients = int(test["patient_id"].nunique())
            draws = ev.oracle_draws if ORACLE_NO_FORESIGHT in scores else None
        else:
            if store_path is None:
                log_event("models.dates.skipped", task=config.task, reason=NO_STORE)
                return None
            frame, patients = crisis_dates_frame(store_path, data, config=config)
            y = frame["label"].to_numpy(dtype=float)
            scores = {MODEL: model.predict_proba(frame)}
            scores[ORACLE] = oracle_scores(truth_dir, data, frame)
            got = no_foresight_scores(
                truth_dir, data.task, frame, draws=ev.dates_oracle_draws, seed=config.seed
            )
            if isinstance(got, str):
                notes[ORACLE_NO_FORESIGHT] = got
            else:
                scores[ORACLE_NO_FORESIGHT] = got[0]
                draws = ev.dates_oracle_draws
            as_of = frame["index_date"].to_numpy(dtype="datetime64[D]")
            test = frame
        per_date, summary = summarise_dates(
            y,
            scores,
            as_of=as_of,
            patient=test["patient_id"].astype(str).to_numpy(),
            n_boot=ev.dates_bootstrap,
            seed=config.seed,
        )
    result = DatesEvaluation(
        per_date=per_date,
        summary=summary,
        every_days=ev.dates_every_days,
        patients=patients,
        draws=draws,
        notes=notes,
    )
    log_event(
        "models.dates.done",
        task=config.task,
        dates=len(per_date),
        rows=int(per_date["rows"].sum()),
        model_auroc_mean=round(float(summary.set_index("score").loc[MODEL, "mean"]), 4),
    )
    return result
