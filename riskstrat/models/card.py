"""Model card (Markdown + HTML) from a model's evaluation facts.

Built at training time from the evaluation in memory (`build_card`), validated by the
`ModelCard` schema, rendered by two templates and logged with the run (`model_card/`: card.json,
the Markdown, a self-contained HTML with inline plots, the plot PNGs). `riskstrat model-card`
re-renders a registered version's card.json with its current aliases.
"""

from __future__ import annotations

import base64
import json
import math
import tempfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import jinja2
from mlflow.exceptions import MlflowException
from pydantic import BaseModel, ConfigDict, field_validator

from riskstrat.models import card_text as text
from riskstrat.models.config import ModelConfig
from riskstrat.models.evaluate import MODEL, ORACLE, EvalResult
from riskstrat.models.mlflow_import import mlflow, quiet
from riskstrat.models.registry import (
    CHAMPION,
    NO_SUCH_MODEL,
    NO_SUCH_VERSION,
    model_name,
    use_tracking,
)

TEMPLATES = Path(__file__).with_name("templates")
CARD_DIR = "model_card"
CARD_JSON = "card.json"
NO_CARD = (
    "{name} version {version}: its run has no {path} (trained before model cards were logged): "
    "retrain with `riskstrat train {task}`"
)
DATES_COUNTS = ("as_of", "rows", "events")
PLOT_TITLES = {
    "roc": "ROC curve (test rows)",
    "pr": "Precision-recall curve (test rows)",
    "reliability": "Reliability (calibration) curve",
    "shap_summary": "SHAP summary: global feature importance",
}


class CardSchema(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _nan_is_none(cls, v: object) -> object:
        return None if isinstance(v, float) and math.isnan(v) else v


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
    auprc_lo: float | None = None
    auprc_hi: float | None = None
    brier: float
    brier_lo: float | None = None
    brier_hi: float | None = None
    ece: float
    ece_lo: float | None = None
    ece_hi: float | None = None
    calibration_slope: float | None
    calibration_slope_lo: float | None = None
    calibration_slope_hi: float | None = None
    calibration_intercept: float | None
    auroc_delta: float | None = None  # model - this score
    auroc_delta_lo: float | None = None
    auroc_delta_hi: float | None = None
    mc_draws: int | None = None  # the no-foresight oracle's Monte Carlo: draws, standard error
    mc_se_mean: float | None = None
    mc_se_max: float | None = None
    top_listed: dict[str, tuple[float | None, float | None]]  # fraction -> (PPV, sensitivity)


class SubgroupRow(CardSchema):
    slice: str
    group: str
    n: int
    events: int
    observed: float
    predicted: float
    gap: float
    # the evaluation's bootstrap interval of the gap (absent from cards written before stop 29,
    # which showed the gap bare beside AUROC intervals; none for groups below min_group_rows)
    gap_lo: float | None = None
    gap_hi: float | None = None
    auroc: float | None
    auroc_lo: float | None
    auroc_hi: float | None


class ReliabilityBin(CardSchema):
    bin: int
    n: int
    predicted: float
    observed: float


class DatesSummaryRow(CardSchema):
    score: str  # a scorer, or gap_to_<reference> (reference - model, paired)
    mean: float | None
    min: float | None
    max: float | None
    lo: float | None
    hi: float | None


class DatesSection(CardSchema):
    """AUROC over many as-of dates (synthetic data; riskstrat.models.dates)."""

    every_days: int
    patients: int
    draws: int | None = None
    first: str
    last: str
    rows: int
    events: int
    summary: list[DatesSummaryRow]
    per_date: list[dict[str, str | int | float | None]]


def dates_section(dates: object) -> DatesSection | None:
    if dates is None:
        return None
    per_date = dates.per_date  # type: ignore[attr-defined]
    records = [
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
        for r in per_date.to_dict("records")
    ]
    return DatesSection(
        every_days=dates.every_days,  # type: ignore[attr-defined]
        patients=dates.patients,  # type: ignore[attr-defined]
        draws=dates.draws,  # type: ignore[attr-defined]
        first=str(per_date["as_of"].iloc[0]),
        last=str(per_date["as_of"].iloc[-1]),
        rows=int(per_date["rows"].sum()),
        events=int(per_date["events"].sum()),
        summary=[
            DatesSummaryRow(**r)
            for r in dates.summary.to_dict("records")  # type: ignore[attr-defined]
        ],
        per_date=records,
    )


class ModelCard(CardSchema):
    name: str
    version: str
    task: str
    aliases: list[str]
    generated_at: str
    owner: str
    contact: str
    clinical_safety_officer: str
    intended_use: str
    use_boundary: list[str]
    intended_users: list[str]
    out_of_scope: list[str]
    horizon_days: int | None
    extract_date: str
    periods: dict[str, str]
    rows: dict[str, int]
    features: list[str]
    calibration_method: str
    performance: list[ScoreRow]
    #: many as-of dates against both oracles (synthetic data; absent in older cards)
    dates: DatesSection | None = None
    subgroups: list[SubgroupRow]
    reliability: list[ReliabilityBin]
    plots: dict[str, str]  # name -> base64 PNG
    limitations: list[str]
    clinical_safety: list[str]
    monitoring: dict[str, str]
    gate: dict[str, str]
    lineage: dict[str, str]


def _score_rows(overall) -> list[ScoreRow]:
    rows = []
    for rec in overall.to_dict("records"):
        fractions = sorted({k.split("_", 1)[1] for k in rec if k.startswith("ppv_")})
        rows.append(
            ScoreRow(
                **{k: rec.get(k) for k in ScoreRow.model_fields if k != "top_listed"},
                top_listed={
                    f: (rec.get(f"ppv_{f}"), rec.get(f"sensitivity_{f}")) for f in fractions
                },
            )
        )
    return rows


def flat(prefix: str, value: object) -> dict[str, str]:
    """Nested settings as `a.b: value` strings (monitoring thresholds, gate rules)."""
    if isinstance(value, Mapping):
        out: dict[str, str] = {}
        for k, v in value.items():
            out |= flat(f"{prefix}.{k}" if prefix else str(k), v)
        return out
    return {prefix: json.dumps(value) if isinstance(value, list | tuple) else str(value)}


def build_card(
    *,
    evaluation: EvalResult,
    config: ModelConfig,
    version: str,
    aliases: Sequence[str],
    features: Sequence[str],
    manifest: Mapping[str, object],
    plots: Mapping[str, bytes],
    monitoring: Mapping[str, object],
    lineage: Mapping[str, str],
) -> ModelCard:
    """The card of one model version from its evaluation facts (pure)."""
    overall = evaluation.overall
    model_sub = evaluation.subgroups[evaluation.subgroups["score"] == MODEL]
    model_rel = evaluation.reliability[MODEL]
    horizon = manifest.get("horizon_days")
    periods = manifest.get("periods") or {}
    return ModelCard(
        name=model_name(config.task),
        version=str(version),
        task=config.task,
        aliases=list(aliases),
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        owner=config.card.owner,
        contact=config.card.contact,
        clinical_safety_officer=config.card.clinical_safety_officer,
        intended_use=text.INTENDED_USE.get(config.task, text.DEFAULT_USE).format(
            horizon=horizon or "?"
        ),
        use_boundary=text.USE_BOUNDARY,
        intended_users=text.INTENDED_USERS,
        out_of_scope=text.OUT_OF_SCOPE,
        horizon_days=int(horizon) if horizon else None,
        extract_date=str(manifest.get("extract_date", "-")),
        periods={str(k): str(v) for k, v in dict(periods).items()},
        rows={str(k): int(v) for k, v in dict(manifest.get("rows") or {}).items()},
        features=list(features),
        calibration_method=config.calibration.method,
        performance=_score_rows(overall),
        dates=dates_section(getattr(evaluation, "dates", None)),
        subgroups=[
            SubgroupRow(**{k: r[k] for k in SubgroupRow.model_fields})
            for r in model_sub.to_dict("records")
        ],
        reliability=[
            ReliabilityBin(**{k: r[k] for k in ReliabilityBin.model_fields})
            for r in model_rel.to_dict("records")
        ],
        plots={k: base64.b64encode(v).decode("ascii") for k, v in plots.items()},
        limitations=text.limitations(
            overall,
            evaluation.subgroups[evaluation.subgroups["score"] == MODEL],
            model_rel,
            bounds=config.card,
            synthetic=ORACLE in set(overall["score"]) or manifest.get("synthetic") is True,
        ),
        clinical_safety=text.CLINICAL_SAFETY,
        monitoring=flat("", monitoring),
        gate=flat("", config.gate.model_dump(mode="json")),
        lineage=dict(lineage),
    )


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        # the HTML template is card.html.j2: ["html"] alone left it unescaped, and the dates
        # note's "gap_to_<reference>" became an unknown tag a browser hides
        autoescape=jinja2.select_autoescape(["html", "html.j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = lambda v, d=3: "-" if v is None else f"{v:.{d}f}"
    env.filters["pct"] = lambda v, d=1: "-" if v is None else f"{100 * v:.{d}f}%"
    env.filters["ci"] = lambda r, k, d=3: (
        "" if r.get(f"{k}_lo") is None else f" ({r[f'{k}_lo']:.{d}f}-{r[f'{k}_hi']:.{d}f})"
    )
    return env


def stem(card: ModelCard) -> str:
    return f"{card.name}-v{card.version}"


def render(card: ModelCard) -> tuple[str, str]:
    """(markdown, html); the Markdown links the plots as `<stem>-<plot>.png` beside it, the
    HTML embeds them (self-contained)."""
    env = _env()
    data = card.model_dump()
    files = {k: f"{stem(card)}-{k}.png" for k in card.plots}
    data["references"] = text.reference_notes(data["performance"])
    data["dates_note"] = text.dates_note(data["dates"])
    data["subgroup_note"] = text.SUBGROUP_NOTE
    rows = data["subgroups"]
    if not any(r["gap_lo"] is not None for r in rows) and any(r["auroc_lo"] for r in rows):
        data["subgroup_note"] += text.SUBGROUP_NOTE_OLD
    first = data["dates"]["per_date"][0] if data["dates"] and data["dates"]["per_date"] else {}
    data["dates_scores"] = [k for k in first if k not in DATES_COUNTS]
    md = env.get_template("card.md.j2").render(**data, plot_files=files, titles=PLOT_TITLES)
    html = env.get_template("card.html.j2").render(**data, titles=PLOT_TITLES)
    return md, html


def write_files(card: ModelCard, out_dir: Path) -> tuple[Path, Path]:
    """The card's Markdown, HTML and plot PNGs in `out_dir`; -> (md, html)."""
    md, html = render(card)
    out_dir.mkdir(parents=True, exist_ok=True)
    md_path, html_path = out_dir / f"{stem(card)}.md", out_dir / f"{stem(card)}.html"
    md_path.write_text(md, encoding="utf-8")
    html_path.write_text(html, encoding="utf-8")
    for name, b64 in card.plots.items():
        (out_dir / f"{stem(card)}-{name}.png").write_bytes(base64.b64decode(b64))
    return md_path, html_path


def log_card(card: ModelCard) -> str:
    """Inside an active run: the card under `model_card/`; -> the HTML's artifact path."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_files(card, folder)
        (folder / CARD_JSON).write_text(card.model_dump_json(), encoding="utf-8")
        mlflow.log_artifacts(str(folder), artifact_path=CARD_DIR)
    return f"{CARD_DIR}/{stem(card)}.html"


def load_card(
    task_name: str, *, tracking_uri: str, alias: str | None = CHAMPION, version: str | None = None
) -> ModelCard:
    """A registered version's card, with its aliases as they are now."""
    client = use_tracking(tracking_uri)
    name = model_name(task_name)
    with quiet():
        try:
            mv = (
                client.get_model_version(name, version)
                if version
                else client.get_model_version_by_alias(name, alias)
            )
        except MlflowException as exc:
            message = (
                NO_SUCH_VERSION.format(version=version, name=name, uri=tracking_uri)
                if version
                else NO_SUCH_MODEL.format(name=name, alias=alias, uri=tracking_uri)
            )
            raise LookupError(message) from exc
        path = f"{CARD_DIR}/{CARD_JSON}"
        with tempfile.TemporaryDirectory() as tmp:
            try:
                local = mlflow.artifacts.download_artifacts(
                    run_id=mv.run_id, artifact_path=path, dst_path=tmp
                )
            except (OSError, MlflowException) as exc:
                raise LookupError(
                    NO_CARD.format(name=name, version=mv.version, path=path, task=task_name)
                ) from exc
            card = ModelCard.model_validate_json(Path(local).read_text(encoding="utf-8"))
    return card.model_copy(
        update={
            "aliases": list(mv.aliases),
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    )


def write_card(
    task_name: str,
    *,
    tracking_uri: str,
    out_dir: Path,
    alias: str | None = CHAMPION,
    version: str | None = None,
) -> tuple[Path, Path]:
    card = load_card(task_name, tracking_uri=tracking_uri, alias=alias, version=version)
    return write_files(card, out_dir)
