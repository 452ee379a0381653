"""`riskstrat demo`: a synthetic care system end to end, then a summary a newcomer can read.

synth -> ingest -> train both tasks (with the generator's truth for the oracle comparison) ->
register (the first version of a task becomes champion) -> back-fill last week's crisis scores ->
run -> summary. Re-running is
idempotent: the population is regenerated only when demo.yaml changes (a stamp records its
parameters), the ingest of an unchanged extract is a no-op, a task whose champion was trained on
the same data snapshot is not retrained, and the run of the same as-of republishes the same files.
"""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
from pydantic import Field, field_validator, model_validator

from riskstrat.config import Settings, StrictModel, config_dir, load_yaml
from riskstrat.logs import log_event, timed
from riskstrat.tasks.spec import TaskName

DEMO_FILE = "demo.yaml"
DEMO_DIR = "demo"  # under the data folder
STAMP = "demo-stamp.json"
#: Metrics shown in the model comparison, in this order.
SHOWN_METRICS = ("auroc", "auprc", "brier", "ece")
#: The paired model - scorer AUROC difference with its bootstrap interval (evaluate.py).
DELTA_COLUMN = "model-score AUROC (95% CI)"
DEMO_DATES = (
    "the dates must run start < end < as_of (history, extract date, the run after it), got "
    "start {start}, end {end}, as_of {as_of}"
)
DEMO_FORMAT = "format {value!r} is not one of {allowed}"


class DemoConfig(StrictModel):
    patients: int = Field(ge=1)
    practices: int = Field(ge=1)
    start: date
    end: date
    as_of: date
    seed: int = Field(ge=0)
    format: str = "parquet"
    tasks: list[TaskName]
    #: Weeks of crisis scores back-filled before as_of (point in time: features see only data
    #: before each date), so the run has last week's scores for rising risk and the report's
    #: week-on-week trend. Only scores: a run never publishes lists for a date before its extract.
    history_weeks: int = Field(default=1, ge=0)

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        from riskstrat.synth.tables import FORMATS

        if value not in FORMATS:
            raise ValueError(DEMO_FORMAT.format(value=value, allowed=", ".join(FORMATS)))
        return value

    @model_validator(mode="after")
    def _date_order(self) -> DemoConfig:
        if not self.start < self.end < self.as_of:
            raise ValueError(DEMO_DATES.format(start=self.start, end=self.end, as_of=self.as_of))
        return self


def load_demo_config(path: Path | None = None) -> DemoConfig:
    return load_yaml(path or config_dir() / DEMO_FILE, DemoConfig)


def population_dir(settings: Settings) -> Path:
    return settings.paths.data_dir / DEMO_DIR / "population"


def synthesize_once(config: DemoConfig, *, settings: Settings, fresh: bool) -> tuple[Path, bool]:
    """Generate the population unless one with exactly these parameters is already there."""
    from riskstrat.synth.generate import synthesize

    folder = population_dir(settings)
    stamp = folder / STAMP
    wanted = config.model_dump(mode="json", exclude={"as_of", "tasks"})
    if fresh and folder.exists():
        shutil.rmtree(folder)
    if stamp.is_file() and json.loads(stamp.read_text()) == wanted:
        return folder, False
    if folder.exists():
        shutil.rmtree(folder)
    synthesize(
        patients=config.patients,
        practices=config.practices,
        start=config.start,
        end=config.end,
        seed=config.seed,
        out_dir=folder,
        fmt=config.format,
    )
    stamp.write_text(json.dumps(wanted, indent=2) + "\n")
    return folder, True


def champion_metrics(task: str, *, settings: Settings, data_hash: str | None) -> dict | None:
    """The champion's test metrics if it was trained on this data snapshot, else None."""
    from mlflow.exceptions import MlflowException

    from riskstrat.models.registry import model_name, use_tracking

    client = use_tracking(settings.paths.mlflow_uri)
    try:
        version = client.get_model_version_by_alias(model_name(task), "champion")
    except MlflowException:
        return None
    run = client.get_run(version.run_id)
    if data_hash is None or run.data.tags.get("data_snapshot_hash") != data_hash:
        return None
    return {"version": version.version, "metrics": dict(run.data.metrics), "trained": False}


def train_once(task: str, *, settings: Settings, truth_dir: Path, data_hash: str | None) -> dict:
    from riskstrat.models.card import write_card
    from riskstrat.models.train import train_task

    known = champion_metrics(task, settings=settings, data_hash=data_hash)
    if known is None:
        result = train_task(task, settings=settings, truth_dir=truth_dir)
        known = {"version": result.version, "metrics": dict(result.metrics), "trained": True}
    else:
        log_event("demo.train.reused", task=task, version=known["version"])
    try:
        cards = settings.paths.out_dir / "model_cards"
        html = write_card(task, tracking_uri=settings.paths.mlflow_uri, out_dir=cards)[1]
        known["card"] = str(html)
    except LookupError as exc:  # a champion logged before model cards were: no card to show
        log_event("demo.card.missing", task=task, reason=str(exc))
    return known


def _delta(values: dict[str, float]) -> str | None:
    d, lo, hi = (values.get(k) for k in ("auroc_delta", "auroc_delta_lo", "auroc_delta_hi"))
    if d is None:
        return None
    return f"{d:+.3f}" + (f" ({lo:+.3f} to {hi:+.3f})" if lo is not None and hi is not None else "")


def model_table(results: dict[str, dict]) -> pd.DataFrame:
    """Model vs baselines vs the references (on synthetic data: the full oracle and the
    no-foresight oracle) per task, from flat metric names `<scorer>.<metric>` or `<metric>`
    (the model itself), with the paired model - scorer AUROC difference and its interval."""
    rows = []
    for task, res in results.items():
        metrics: dict[str, float] = res["metrics"]
        scorers: dict[str, dict[str, float]] = {}
        for key, value in metrics.items():
            key = key.replace("/", ".")  # MLflow names metrics `<scorer>/<metric>`
            scorer, _, metric = key.rpartition(".") if "." in key else ("model", "", key)
            scorers.setdefault(scorer or "model", {})[metric] = value
        for scorer, values in scorers.items():
            if not any(m in values for m in SHOWN_METRICS):
                continue
            rows.append(
                {"task": task, "scorer": scorer, **{m: values.get(m) for m in SHOWN_METRICS}}
                | {DELTA_COLUMN: _delta(values)}
            )
    return pd.DataFrame(rows, columns=["task", "scorer", *SHOWN_METRICS, DELTA_COLUMN])


#: Scorers that are references, not baselines: the model is not expected to beat them.
REFERENCE_PREFIX = "oracle"
SIZE_NOTE = "{task}: the test period holds {n:,} rows with {events:,} events"
NOT_DISTINGUISHABLE = (
    "; at this size the model cannot be told apart from {scorers} (the paired AUROC interval "
    "includes 0): compare them at a larger population (README, 200k figures)"
)


def size_notes(results: dict[str, dict]) -> list[str]:
    """Per task: how many test rows and events the printed table rests on, and which baselines
    the model cannot be told apart from at this size (paired model - baseline AUROC interval
    including 0), so a small demo is not read as a ranking of methods."""
    notes = []
    for task, res in results.items():
        m = {k.replace("/", "."): v for k, v in res["metrics"].items()}
        n, events = m.get("model.n"), m.get("model.events")
        if n is None or events is None:
            continue
        scorers = sorted(
            {k.rsplit(".", 1)[0] for k in m if k.endswith(".auroc_delta_lo")}
            - {k.rsplit(".", 1)[0] for k in m if k.startswith(REFERENCE_PREFIX)}
        )
        unclear = [
            s for s in scorers if m[f"{s}.auroc_delta_lo"] <= 0 <= m.get(f"{s}.auroc_delta_hi", 0)
        ]
        note = SIZE_NOTE.format(task=task, n=int(n), events=int(events))
        if unclear:
            note += NOT_DISTINGUISHABLE.format(scorers=", ".join(unclear))
        notes.append(note)
    return notes


def lists_per_practice(run_dir: Path) -> pd.DataFrame:
    """Rows on each practice's list files (counts only: names never leave the practice files)."""
    rows = []
    for path in sorted(Path(run_dir).glob("practices/*/*.csv")):
        if path.name == "feedback.csv":
            continue
        rows.append(
            {
                "practice": path.parent.name,
                "pathway": path.stem,
                "rows": len(pd.read_csv(path, usecols=[0])),
            }
        )
    frame = pd.DataFrame(rows, columns=["practice", "pathway", "rows"])
    return frame.pivot_table(
        index="practice", columns="pathway", values="rows", aggfunc="sum", fill_value=0
    )


def in_hospital_on_lists(run_dir: Path, con: object, *, as_of: date) -> pd.DataFrame:
    """Per list: people listed and how many of them have an open spell at as_of (must be 0)."""
    frames = [
        pd.read_csv(path, usecols=["patient_id", "pathway"], dtype="str")
        for path in sorted(Path(run_dir).glob("practices/*/*.csv"))
        if path.name != "feedback.csv"
    ]
    if not frames:
        return pd.DataFrame(columns=["pathway", "listed", "in_hospital"])
    listed = pd.concat(frames, ignore_index=True)
    open_ids = con.execute(  # type: ignore[attr-defined]
        "SELECT DISTINCT patient_id FROM spells WHERE admission_date <= ? "
        "AND (discharge_date IS NULL OR discharge_date > ?)",
        [as_of, as_of],
    ).df()["patient_id"]
    listed["in_hospital"] = listed["patient_id"].isin(set(open_ids))
    return (
        listed.groupby("pathway")
        .agg(listed=("patient_id", "size"), in_hospital=("in_hospital", "sum"))
        .reset_index()
    )


def list_rule_breaches(run_dir: Path, con: object, *, as_of: date) -> dict[str, int]:
    """outreach.audit over the run's list files (counts of rows breaking each list rule)."""
    from riskstrat.explain.actions import load_actions
    from riskstrat.outreach.audit import audit_lists
    from riskstrat.outreach.config import load_outreach_config, load_pathways

    config = load_outreach_config()
    return audit_lists(
        run_dir, con, as_of=as_of, config=config, pathways=load_pathways(config),  # type: ignore[arg-type]
        actions=load_actions(),
    )  # fmt: skip


def run_demo(config: DemoConfig, *, settings: Settings, fresh: bool = False) -> str:
    """Everything end to end; returns the printable summary."""
    from riskstrat.outreach.scoring import score
    from riskstrat.registry.ingest import ingest
    from riskstrat.registry.store import connect
    from riskstrat.runs.pipeline import run_once
    from riskstrat.runs.publish import run_dir
    from riskstrat.runs.state import RunOptions
    from riskstrat.synth.realism import realism_table

    with timed("demo.synth", patients=config.patients):
        folder, made = synthesize_once(config, settings=settings, fresh=fresh)
    with timed("demo.ingest"):
        report = ingest(
            folder / "extract",
            extract_date=config.end,
            store_path=settings.paths.store,
            settings=settings,
        )
    results = {}
    for task in config.tasks:
        with timed("demo.train", task=task):
            results[task] = train_once(
                task, settings=settings, truth_dir=folder / "truth", data_hash=report.content_hash
            )
    options = RunOptions(
        extract_date=config.end, source_dir=folder / "extract", lock_timeout_seconds=600
    )
    for weeks in range(config.history_weeks, 0, -1):
        earlier = config.as_of - timedelta(weeks=weeks)
        with (
            timed("demo.backfill", as_of=earlier),
            connect(settings.paths.store, read_only=False) as con,
        ):
            score(con, as_of=earlier, settings=settings, tasks=("crisis",))
    with timed("demo.run", as_of=config.as_of):
        manifest = run_once(as_of=config.as_of, settings=settings, options=options)
    published = run_dir(settings.paths.out_dir, manifest.run_name)
    with connect(settings.paths.store) as con:
        realism = realism_table(con, as_of=config.as_of)
        in_hospital = in_hospital_on_lists(published, con, as_of=config.as_of)
        rules = list_rule_breaches(published, con, as_of=config.as_of)
    return summary_text(
        config=config,
        settings=settings,
        generated=made,
        ingest_status=report.status,
        realism=realism,
        models=model_table(results),
        sizes=size_notes(results),
        trained={t: r["trained"] for t, r in results.items()},
        lists=lists_per_practice(published),
        in_hospital=in_hospital,
        rules=rules,
        run_folder=published,
        warnings=manifest.warnings,
        cards=results,
    )


def summary_text(
    *,
    config: DemoConfig,
    settings: Settings,
    generated: bool,
    ingest_status: str,
    realism: pd.DataFrame,
    models: pd.DataFrame,
    trained: dict[str, bool],
    sizes: list[str] | None = None,
    lists: pd.DataFrame,
    run_folder: Path,
    warnings: list[str],
    in_hospital: pd.DataFrame | None = None,
    rules: dict[str, int] | None = None,
    cards: dict[str, dict] | None = None,
) -> str:
    fmt = {"float_format": lambda v: f"{v:.3f}"}
    trained_text = ", ".join(f"{t}: {'trained' if v else 'reused'}" for t, v in trained.items())
    report = run_folder / "commissioner" / "report.html"
    parts = [
        f"Synthetic care system: {config.patients:,} patients, {config.practices} practices, "
        f"{config.start} to {config.end}, seed {config.seed} "
        f"({'generated' if generated else 'reused'}; extract {ingest_status}; {trained_text})",
        "",
        "Realism (generated vs DESIGN reference figures):",
        realism.to_string(index=False, na_rep="-", **fmt),
        "",
        "Models on the test period (model vs baselines vs full and no-foresight oracles):",
        models.to_string(index=False, na_rep="-", **fmt),
        *(sizes or []),
        "",
        f"Lists written per practice (rows; run {run_folder.name}):",
        lists.to_string(),
        "",
        "People in hospital now (open spell at the run date) on a contact list (must be 0):",
        (in_hospital if in_hospital is not None else pd.DataFrame()).to_string(index=False),
        "List rules (rows breaking each, must be 0): "
        + ", ".join(f"{k} {v}" for k, v in (rules or {}).items()),
        "",
        *(f"Model card ({t}):   {r['card']}" for t, r in (cards or {}).items() if "card" in r),
        f"Commissioner report: {report}",
        f"Run manifest:        {run_folder / 'manifest.json'}",
        f"Monitoring warnings: {len(warnings)}",
        *(f"  - {w}" for w in warnings),
        "",
        "MLflow (runs, metrics, plots, registered models):",
        f"  mlflow ui --backend-store-uri {settings.paths.mlflow_uri}",
    ]
    return "\n".join(parts)
