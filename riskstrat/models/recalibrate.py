"""Recalibrate a champion on a new population's matured outcomes (`riskstrat recalibrate TASK`).

The model's ranking is kept (the booster is unchanged); only its calibration is updated with a
logistic intercept / slope fitted on local rows whose outcome window has closed:
logit(p_new) = a + b * logit(p_old). The result is registered as a new version (challenger) and
put through the normal promotion gate (riskstrat.models.promote) on the local store's test period.

Matured rows: the task's index at the latest as-of dates whose label window lies wholly inside
the extract (crisis: everyone registered then; readmission: the discharges of the window), with
features as known then and labels from the store. See docs/new-population.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd

from riskstrat.config import Settings
from riskstrat.db import fetch_value
from riskstrat.logs import log_event, timed
from riskstrat.models.calibrate import UNKNOWN_METHOD, Calibrator
from riskstrat.models.metrics import logistic_fit, logit
from riskstrat.models.population import SMALL_SAMPLE, calibration_in_the_large
from riskstrat.models.registry import RiskModel

NO_EXTRACT = "{store}: no extract ingested: run `riskstrat ingest` first"
NOT_MATURED = (
    "{task}: no matured outcomes: the extract ({extract}) must run {days} days past the first "
    "index date; wait or give an earlier --as-of"
)
TOO_FEW_EVENTS = (
    "{task}: {events} events in {rows} matured rows: at least {minimum} are needed to recalibrate"
)
#: Events needed for an intercept + slope update; fewer (but >= MIN_EVENTS) update the intercept.
SLOPE_EVENTS = 50
MIN_EVENTS = 10


class RecalibrationError(ValueError):
    """Recalibration is not possible on this store (no extract, no matured rows, too few events)."""


@dataclass
class Recalibration:
    task: str
    as_of: list[str]
    intercept: float
    slope: float
    before: dict[str, object]
    after: dict[str, object]
    base_version: str
    #: matured rows of the held-out test patients, left out of the fit (the gate's rows)
    held_out_rows: int = 0
    version: str | None = None
    gate: dict[str, object] = field(default_factory=dict)

    def lines(self) -> list[str]:
        def row(label: str, c: dict) -> str:
            return (
                f"  {label}: observed {c['observed']:.2%}, predicted {c['expected']:.2%}, "
                f"observed/expected {c['observed_expected']:.3f}"
            )

        out = [
            f"{self.task}: recalibrated version {self.base_version} on {self.before['rows']} "
            f"matured rows ({self.before['events']} events; as-of {', '.join(self.as_of)}; "
            f"{self.held_out_rows} rows of the held-out test patients left out of the fit)",
            f"  logit(p) = {self.intercept:+.4f} + {self.slope:.4f} x logit(p_champion)",
            row("before", self.before),
            row("after ", self.after),
        ]
        if self.version:
            out.append(f"  registered as version {self.version} (challenger)")
        if self.gate:
            verdict = "PROMOTED" if self.gate.get("promote") else "NOT PROMOTED"
            out.append(f"  promotion gate: {verdict}")
            out += [f"    - {r}" for r in self.gate.get("reasons", [])]
        return out


def fit_update(risk: np.ndarray, label: np.ndarray, *, slope: bool) -> tuple[float, float]:
    """(a, b) of logit(p_new) = a + b logit(p): intercept only (b = 1) or intercept and slope."""
    lp = logit(np.asarray(risk, dtype=float))
    y = np.asarray(label, dtype=float)
    if slope:
        a, b = logistic_fit(y, lp, np.zeros_like(lp))
        return float(a), float(b)
    (a,) = logistic_fit(y, None, lp)
    return float(a), 1.0


def updated_calibrator(old: Calibrator, *, a: float, b: float) -> Calibrator:
    """The old calibrator followed by logit(p) -> a + b logit(p), as one calibrator of the same
    method (so it serialises, and scores, as the old one does).

    Each method is composed in the space its parameters live in (riskstrat.models.calibrate):
    platt and centred_isotonic hold risk *logits* (platt: a + b x; centred: knot logits y and the
    tail slope b beyond the end knots), so the update is linear in them and exact (centred: up to
    the soft bound beyond logit +-SOFT_LOGIT); plain isotonic holds risks (probabilities) at its
    thresholds, which are mapped through the update (monotone, so still isotonic).
    """
    if old.method == "platt":
        return replace(old, a=a + b * old.a, b=b * old.b)
    if old.method == "centred_isotonic":
        knots = a + b * np.asarray(old.y, dtype=float)
        return replace(old, y=tuple(float(v) for v in knots), b=b * old.b)
    if old.method == "isotonic":
        risk = 1 / (1 + np.exp(-(a + b * logit(np.asarray(old.y, dtype=float)))))
        return replace(old, y=tuple(float(v) for v in risk))
    raise ValueError(UNKNOWN_METHOD.format(method=old.method))


def matured_dates(extract: date, *, horizon_days: int, count: int, step_days: int) -> list[date]:
    """The latest `count` as-of dates whose window [d, d + horizon) ends by the extract date."""
    last = extract - timedelta(days=horizon_days - 1)
    return [last - timedelta(days=step_days * k) for k in range(count)][::-1]


def matured_rows(
    con: duckdb.DuckDBPyConnection,
    task: str,
    *,
    model: RiskModel,
    as_of: list[date],
    extract: date,
) -> pd.DataFrame:
    """Index rows at `as_of` with the model's risk and the (matured) label."""
    from riskstrat.features import build_features
    from riskstrat.tasks import attach_labels, build_index, load_task

    spec = load_task(task)
    if spec.has_index_spell:
        window = timedelta(days=spec.index.as_of_window_days)
        index = build_index(con, spec, start=min(as_of) - window, end=max(as_of))
    else:
        index = build_index(con, spec, as_of_dates=as_of)
    labelled = attach_labels(con, spec, index, extract_date=extract)
    labelled = labelled[labelled["label"].notna()].reset_index(drop=True)
    if labelled.empty:
        return labelled.assign(risk=pd.Series(dtype="float64"))
    matrix = build_features(con, labelled[list(spec.keys)], task=task)
    risk = model.predict_risk(matrix[list(model.input_names)])
    keyed = matrix[list(spec.keys)].assign(risk=risk)
    return keyed.merge(labelled[[*spec.keys, "label"]], on=list(spec.keys), how="left")


def fit_rows(rows: pd.DataFrame, *, task: str) -> pd.DataFrame:
    """The matured rows the update may be fitted on: not those of the patients the split holds
    out for testing (riskstrat.models.split: the seeded `test_patient_share`). The promotion gate
    judges the recalibrated version on those patients' test rows, and the latest matured date
    is the crisis test date itself: fitted on them, the gate would judge the update on the rows
    it was fitted to."""
    from riskstrat.models.config import load_model_config
    from riskstrat.models.split import patient_unit

    if rows.empty:
        return rows
    config = load_model_config(task)
    held = patient_unit(rows["patient_id"], seed=config.seed) < config.split.test_patient_share
    return rows[~held].reset_index(drop=True)


def recalibrate_task(
    task: str,
    *,
    settings: Settings,
    as_of: list[date] | None = None,
    dates: int = 4,
    step_days: int = 28,
    register: bool = True,
    gate: bool = True,
) -> Recalibration:
    """Fit the update on matured local outcomes, register it and run the promotion gate."""
    from riskstrat.models.registry import load_model
    from riskstrat.registry.store import connect, latest_extract
    from riskstrat.tasks import load_task

    store = settings.paths.store
    latest = latest_extract(store)
    if latest is None:
        raise RecalibrationError(NO_EXTRACT.format(store=store))
    extract = pd.Timestamp(latest["extract_date"]).date()
    horizon = load_task(task).label.horizon_days
    as_of = as_of or matured_dates(extract, horizon_days=horizon, count=dates, step_days=step_days)
    model = load_model(task, alias="champion", tracking_uri=settings.paths.mlflow_uri)
    with timed("recalibrate", task=task, dates=len(as_of)) as extra, connect(store) as con:
        rows = matured_rows(con, task, model=model, as_of=as_of, extract=extract)
        extra.update(rows=len(rows))
    matured, rows = len(rows), fit_rows(rows, task=task)
    extra_rows = {"held_out_rows": matured - len(rows)}
    events = int(rows["label"].sum()) if len(rows) else 0
    if rows.empty:
        raise RecalibrationError(NOT_MATURED.format(task=task, extract=extract, days=horizon))
    if events < MIN_EVENTS:
        raise RecalibrationError(
            TOO_FEW_EVENTS.format(task=task, events=events, rows=len(rows), minimum=MIN_EVENTS)
        )
    label = rows["label"].to_numpy(dtype=float)
    a, b = fit_update(rows["risk"].to_numpy(), label, slope=events >= SLOPE_EVENTS)
    new = updated_calibrator(model.calibrator, a=a, b=b)
    days = ", ".join(d.isoformat() for d in as_of)
    result = Recalibration(
        task=task,
        as_of=[d.isoformat() for d in as_of],
        intercept=a,
        slope=b,
        before=calibration_in_the_large(rows["risk"].to_numpy(), label, as_of=days) or {},
        after={},
        base_version=str(model.version),
        **extra_rows,
    )
    recalibrated = replace(  # the same boosters (a bagged model's members too), a new map
        model,
        calibrator=new,
        meta={**model.meta, "recalibrated_from": str(model.version), "recalibrated_on": days},
        version="",
        run_id="",
        aliases=(),
    )
    with connect(store) as con:
        check = fit_rows(
            matured_rows(con, task, model=recalibrated, as_of=as_of, extract=extract), task=task
        )
    result.after = calibration_in_the_large(check["risk"].to_numpy(), label, as_of=days) or {}
    if register:
        result.version = _register(recalibrated, result, rows=check, settings=settings)
        if gate:
            from riskstrat.models.promote import promote_task

            decision = promote_task(task, settings=settings)
            result.gate = {"promote": decision.promote, "reasons": list(decision.reasons)}
    log_event(
        "recalibrate.done", task=task, intercept=round(a, 4), slope=round(b, 4),
        before=result.before.get("observed_expected"), after=result.after.get("observed_expected"),
    )  # fmt: skip
    return result


def _register(
    model: RiskModel, result: Recalibration, *, rows: pd.DataFrame, settings: Settings
) -> str:
    """An MLflow run (params, before/after metrics) and the new registered version."""
    from riskstrat.models.mlflow_import import mlflow
    from riskstrat.models.registry import (
        ensure_experiment,
        log_bundle,
        model_name,
        use_tracking,
    )

    uri = settings.paths.mlflow_uri
    client = use_tracking(uri)
    exp_id = ensure_experiment(model_name(result.task), client=client, uri=uri)
    sample = pd.DataFrame({f: [0.0] for f in model.feature_names})  # signature only: no rows
    if "index_date" in model.input_names:  # a level forecast reads each row's date
        sample["index_date"] = pd.Timestamp(result.as_of[-1])
    with mlflow.start_run(experiment_id=exp_id, run_name=f"recalibrate-{result.task}"):
        mlflow.set_tags({"task": result.task, "recalibrated_from": result.base_version})
        mlflow.log_params(
            {"intercept": result.intercept, "slope": result.slope, "as_of": ",".join(result.as_of),
             "rows": len(rows), "events": result.before.get("events"),
             "held_out_rows": result.held_out_rows}
        )  # fmt: skip
        mlflow.log_metrics(
            {f"{when}.observed_expected": float(c["observed_expected"])
             for when, c in (("before", result.before), ("after", result.after))
             if c.get("observed_expected") is not None}
        )  # fmt: skip
        return log_bundle(model, sample=sample, client=client)


def stored_calibration(
    con: duckdb.DuckDBPyConnection,
    task: str,
    *,
    model: RiskModel,
    labelled: Callable[[date], pd.DataFrame] | None = None,
) -> dict[str, object] | None:
    """Calibration-in-the-large of the latest stored scores of `model` (any version) whose
    outcome window has closed by the store's extract date; None when none has matured yet.

    labelled: the rows scored on a date with `risk` and `label` (a run's shared matured rows,
    riskstrat.reports.loader.matured_rows), so the labels are not computed again here."""
    from riskstrat.registry.store import EXTRACTS
    from riskstrat.tasks import attach_labels, load_task

    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    if "scores" not in tables or EXTRACTS not in tables:
        return None
    extract = fetch_value(con, f"SELECT max(extract_date) FROM {EXTRACTS}")
    spec = load_task(task)
    if extract is None:
        return None
    last = pd.Timestamp(extract) - pd.Timedelta(days=spec.label.horizon_days - 1)
    as_of = fetch_value(
        con,
        "SELECT max(as_of) FROM scores WHERE task = ? AND model_name = ? AND index_date <= ?",
        [task, str(getattr(model, "name", "")), last.date()],
    )
    if as_of is None:
        return None
    if labelled is not None:
        rows = labelled(pd.Timestamp(as_of).date())
        return calibration_in_the_large(
            rows["risk"].to_numpy(),
            rows["label"].astype("float64").to_numpy(),
            as_of=str(pd.Timestamp(as_of).date()),
        )
    scored = con.execute(
        "SELECT * FROM scores WHERE task = ? AND model_name = ? AND as_of = ?",
        [task, str(getattr(model, "name", "")), as_of],
    ).df()
    index = scored[list(spec.keys)]
    labelled = attach_labels(con, spec, index, extract_date=pd.Timestamp(extract).date())
    merged = scored.merge(labelled, on=list(spec.keys), how="inner")
    return calibration_in_the_large(
        merged["risk"].to_numpy(),
        merged["label"].astype("float64").to_numpy(),
        as_of=str(pd.Timestamp(as_of).date()),
    )


def check_population(
    con: duckdb.DuckDBPyConnection,
    matrix: pd.DataFrame,
    risk: np.ndarray,
    *,
    model: RiskModel,
    task: str,
    labelled: Callable[[date], pd.DataFrame] | None = None,
) -> list[str]:
    """Caveats for scoring `matrix` with `model` (see riskstrat.models.population), logged.

    labelled: as for stored_calibration."""
    from riskstrat.models.population import compare_population

    if not hasattr(model, "reference"):  # a scoring stand-in without a training reference
        return []
    check = compare_population(
        matrix,
        risk,
        reference=model.reference,
        task=task,
        matured=stored_calibration(con, task, model=model, labelled=labelled),
    )
    summary = check.as_dict()
    log_event(
        "score.population", task=task, rows=check.rows, severe=check.severe,
        max_psi=summary["max_psi"], mean_risk=check.mean_risk, prevalence=check.prevalence,
    )  # fmt: skip
    for caveat in check.caveats:
        log_event("score.population_caveat", task=task, caveat=caveat)
    if check.severe:
        return check.caveats
    # Not severe: feature drift is the monitoring's to report (from 500 rows); keep what it
    # would not say: shifts seen in a small sample (with the caveat), matured calibration.
    small = SMALL_SAMPLE.split("{n}")[0].format(task=task)
    if any(c.startswith(small) for c in check.caveats):
        return check.caveats
    return [c for c in check.caveats if "matured rows" in c]
