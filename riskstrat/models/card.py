"""Model card (Markdown + HTML) generated from a registered model version.

Everything on the card is read back from MLflow (the version, its run's params, evaluation
tables and manifest), validated by the `ModelCard` schema, then rendered by two templates.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import jinja2
from pydantic import BaseModel, ConfigDict, field_validator

from riskstrat.models.evaluate import MODEL, ORACLE
from riskstrat.models.mlflow_import import mlflow, quiet
from riskstrat.models.registry import CHAMPION, model_name, use_tracking
from riskstrat.models.tracking import (
    EVALUATION_DIR,
    FEATURES_ARTIFACT,
    MANIFEST_ARTIFACT,
    OVERALL_FILE,
    RELIABILITY_FILE,
    SUBGROUPS_FILE,
    download_csv,
    download_json,
)

TEMPLATES = Path(__file__).with_name("templates")
INTENDED_USE = {
    "crisis": (
        "Rank the registered population of a GP practice by the calibrated probability of an "
        "emergency admission in the next {horizon} days, to choose whom to offer proactive, "
        "person-centred care (the weekly early-intervention list)."
    ),
    "readmission_30d": (
        "Estimate, at discharge, the probability of an emergency readmission within 30 days, to "
        "prioritise post-discharge follow-up calls (the weekday post-discharge list)."
    ),
}
INTENDED_USERS = [
    "GP practice teams and care co-ordinators (their own practice's list only)",
    "data scientists (evaluation, retraining, promotion)",
    "commissioners (aggregate risk reports; never patient-level)",
]
OUT_OF_SCOPE = [
    "Clinical diagnosis or decisions about an individual's treatment without clinical review.",
    "Rationing or denying care; cost or resource allocation per patient (the target is a health "
    "event, not cost).",
    "Populations or data sources unlike the training extract without re-evaluation.",
]
LIMITATIONS = [
    "Scores go stale: discrimination falls when scores are not recomputed (SPARRA's AUROC fell "
    "from 0.79 to 0.76 over two years); scores are recomputed every run and monitored.",
    "People already case-managed can rank high; lists exclude recent outreach outcomes, but "
    "teams should check existing care before contact.",
    "Regression to the mean: frequent attenders in the last year often use less next year; a "
    "high score is a prompt for review, not a prediction of certainty.",
    "Labels record emergency admissions, which depend on access and coding; groups with less "
    "access may be under-predicted. Subgroup calibration is reported below and monitored.",
    "Reference results in the field: SPARRA v4 AUROC 0.80, QAdmissions C 0.76-0.78, PARR-30 "
    "0.70, LACE 0.65-0.68, HOSPITAL 0.71-0.72. A model much above these on real data should be "
    "checked for leakage.",
]
SYNTHETIC_NOTE = (
    "Trained and evaluated on a synthetic population: performance on real registry data is not "
    "established by these figures."
)


class CardSchema(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScoreRow(CardSchema):
    score: str
    n: int
    events: int
    observed: float
    predicted: float
    auroc: float | None
    auroc_lo: float | None = None
    auroc_hi: float | None = None
    auprc: float | None
    brier: float
    ece: float
    calibration_slope: float | None
    calibration_intercept: float | None
    top_listed: dict[str, tuple[float | None, float | None]]  # fraction -> (PPV, sensitivity)

    @field_validator(
        "auroc",
        "auroc_lo",
        "auroc_hi",
        "auprc",
        "calibration_slope",
        "calibration_intercept",
        mode="before",
    )
    @classmethod
    def _nan_is_none(cls, v: object) -> object:
        return None if isinstance(v, float) and math.isnan(v) else v


class SubgroupRow(CardSchema):
    slice: str
    group: str
    n: int
    events: int
    observed: float
    predicted: float
    gap: float
    auroc: float | None
    auroc_lo: float | None
    auroc_hi: float | None

    _nan = field_validator("auroc", "auroc_lo", "auroc_hi", mode="before")(
        ScoreRow._nan_is_none.__func__  # type: ignore[attr-defined]
    )


class ReliabilityBin(CardSchema):
    bin: int
    n: int
    predicted: float
    observed: float


class ModelCard(CardSchema):
    name: str
    version: str
    task: str
    aliases: list[str]
    generated_at: str
    intended_use: str
    intended_users: list[str]
    out_of_scope: list[str]
    horizon_days: int | None
    extract_date: str
    periods: dict[str, str]
    rows: dict[str, int]
    features: list[str]
    calibration_method: str
    performance: list[ScoreRow]
    subgroups: list[SubgroupRow]
    reliability: list[ReliabilityBin]
    limitations: list[str]
    lineage: dict[str, str]


def _score_rows(overall) -> list[ScoreRow]:
    rows = []
    for rec in overall.to_dict("records"):
        fractions = sorted({k.split("_", 1)[1] for k in rec if k.startswith("ppv_")})
        rows.append(
            ScoreRow(
                **{k: rec.get(k) for k in ScoreRow.model_fields if k not in ("top_listed",)},
                top_listed={
                    f: (rec.get(f"ppv_{f}"), rec.get(f"sensitivity_{f}")) for f in fractions
                },
            )
        )
    return rows


def build_card(
    task_name: str, *, tracking_uri: str, alias: str | None = CHAMPION, version: str | None = None
) -> ModelCard:
    client = use_tracking(tracking_uri)
    name = model_name(task_name)
    with quiet():
        mv = (
            client.get_model_version(name, version)
            if version
            else client.get_model_version_by_alias(name, alias)
        )
        run = mlflow.get_run(mv.run_id)
        manifest = download_json(mv.run_id, MANIFEST_ARTIFACT)
        features = download_json(mv.run_id, FEATURES_ARTIFACT)
        overall = download_csv(mv.run_id, f"{EVALUATION_DIR}/{OVERALL_FILE}")
        subgroups = download_csv(mv.run_id, f"{EVALUATION_DIR}/{SUBGROUPS_FILE}")
        reliability = download_csv(mv.run_id, f"{EVALUATION_DIR}/{RELIABILITY_FILE}")
    params = run.data.params
    horizon = int(manifest.get("horizon_days") or 0) or None
    limitations = list(LIMITATIONS)
    if run.data.tags.get("data_snapshot_hash") == "synthetic" or ORACLE in set(overall["score"]):
        limitations.append(SYNTHETIC_NOTE)
    model_sub = subgroups[subgroups["score"] == MODEL]
    model_rel = reliability[reliability["score"] == MODEL]
    return ModelCard(
        name=name,
        version=str(mv.version),
        task=task_name,
        aliases=list(mv.aliases),
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        intended_use=INTENDED_USE.get(task_name, "Risk stratification.").format(
            horizon=horizon or params.get("horizon_days", "?")
        ),
        intended_users=INTENDED_USERS,
        out_of_scope=OUT_OF_SCOPE,
        horizon_days=horizon,
        extract_date=str(manifest["extract_date"]),
        periods=manifest["periods"],
        rows=manifest["rows"],
        features=[f["name"] for f in features],
        calibration_method=params.get("calibration.method", "?"),
        performance=_score_rows(overall),
        subgroups=[
            SubgroupRow(**{k: r[k] for k in SubgroupRow.model_fields})
            for r in model_sub.to_dict("records")
        ],
        reliability=[
            ReliabilityBin(**{k: r[k] for k in ReliabilityBin.model_fields})
            for r in model_rel.to_dict("records")
        ],
        limitations=limitations,
        lineage={
            "run_id": mv.run_id,
            "git_sha": str(manifest.get("git_sha")),
            "data_snapshot_hash": str(manifest["data_snapshot_hash"]),
            "config_hash": str(manifest["config_hash"]),
            "features_hash": str(manifest["features_hash"]),
            "codebook_version": str(manifest["codebook_version"]),
            **{f"package.{k}": v for k, v in manifest.get("packages", {}).items()},
        },
    )


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = lambda v, d=3: "-" if v is None else f"{v:.{d}f}"
    env.filters["pct"] = lambda v, d=1: "-" if v is None else f"{100 * v:.{d}f}%"
    return env


def render(card: ModelCard) -> tuple[str, str]:
    """(markdown, html) of the card."""
    env = _env()
    data = card.model_dump()
    return env.get_template("card.md.j2").render(**data), env.get_template("card.html.j2").render(
        **data
    )


def write_card(
    task_name: str,
    *,
    tracking_uri: str,
    out_dir: Path,
    alias: str | None = CHAMPION,
    version: str | None = None,
) -> tuple[Path, Path]:
    card = build_card(task_name, tracking_uri=tracking_uri, alias=alias, version=version)
    md, html = render(card)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{card.name}-v{card.version}"
    md_path, html_path = out_dir / f"{stem}.md", out_dir / f"{stem}.html"
    md_path.write_text(md, encoding="utf-8")
    html_path.write_text(html, encoding="utf-8")
    return md_path, html_path
