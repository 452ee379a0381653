"""`riskstrat synth`: generate a synthetic integrated care system (extract + ground truth)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import click

from riskstrat.cliopts import ISO_DATE, out_option
from riskstrat.synth.tables import FORMATS


@click.command("synth")
@click.option(
    "--patients",
    type=click.IntRange(min=1),
    default=40_000,
    show_default=True,
    help="Number of patients ever registered in the period.",
)
@click.option(
    "--practices",
    type=click.IntRange(min=1),
    default=4,
    show_default=True,
    help="Number of GP practices (grouped into PCNs of 3-5).",
)
@click.option(
    "--start",
    type=ISO_DATE,
    default="2023-01-02",
    show_default=True,
    help="First day of the simulated period (YYYY-MM-DD).",
)
@click.option(
    "--end",
    type=ISO_DATE,
    default="2025-12-28",
    show_default=True,
    help="Last day, which is also the extract date (YYYY-MM-DD).",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),  # numpy refuses a negative seed ("expected non-negative integer")
    default=1,
    show_default=True,
    help="Random seed: the same seed gives identical files.",
)
@out_option("Output folder (default: the configured data folder /synth).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="parquet",
    show_default=True,
    help="File format of the extract tables.",
)
@click.option(
    "--trend",
    type=float,
    default=None,
    help="Yearly secular trend of emergency admissions (0.015 = +1.5 %/year; default 0.015).",
)
@click.option(
    "--seasonality",
    type=click.FloatRange(min=0.0, max=0.5),
    default=None,
    help="Amplitude of the winter peak (0.055 = January ~12 % above August; 0 = none).",
)
@click.option(
    "--virtual-ward",
    "ward_from",
    type=ISO_DATE,
    default=None,
    help="Date (YYYY-MM-DD) a virtual ward opens: lowers the post-discharge risk from then on.",
)
@click.option(
    "--virtual-ward-effect",
    "ward_effect",
    type=click.FloatRange(min=0.0, max=1.0),
    default=0.3,
    show_default=True,
    help="Share of the post-discharge bump the virtual ward removes.",
)
@click.option(
    "--realism/--no-realism",
    default=False,
    show_default=True,
    help="Also print the realism table (generated vs DESIGN reference figures).",
)
def synth(
    patients: int, practices: int, start: date, end: date, seed: int, out_dir: Path | None,
    fmt: str, trend: float | None, seasonality: float | None, ward_from: date | None,
    ward_effect: float, realism: bool,
) -> None:  # fmt: skip
    """Generate a synthetic population as registry extracts (OUT/extract) with ground truth
    (OUT/truth: latent state, history, and the oracle's true risks)."""
    from riskstrat.config import load_settings
    from riskstrat.synth.generate import synthesize
    from riskstrat.synth.params import World

    world = World()
    changes = {
        "trend_per_year": trend, "season_amplitude": seasonality,
        "ward_from": None if ward_from is None else (ward_from - date(1970, 1, 1)).days,
        "ward_effect": ward_effect if ward_from is not None else None,
    }  # fmt: skip
    world = replace(world, **{k: v for k, v in changes.items() if v is not None})

    if out_dir is None:
        out_dir = load_settings().paths.data_dir / "synth"
    try:
        summary = synthesize(patients=patients, practices=practices, start=start, end=end,
                             seed=seed, out_dir=out_dir, fmt=fmt, world=world)  # fmt: skip
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"synthetic care system: {summary.patients:,} patients, "
               f"{summary.practices} practices, {start} to {end}, seed {seed}")  # fmt: skip
    click.echo(f"written to {summary.out_dir}/extract ({fmt}) and {summary.out_dir}/truth "
               f"in {summary.seconds} s")  # fmt: skip
    for table, rows in summary.rows.items():
        click.echo(f"  {table:<16} {rows:>12,} rows")
    click.echo(f"  {'total':<16} {sum(summary.rows.values()):>12,} rows")
    o = summary.oracle
    click.echo(f"oracle AUROC, 90-day emergency admission: {o['oracle_auroc_crisis_90d']:.3f} "
               f"(prevalence {o['crisis_90d_prevalence']:.2%})")  # fmt: skip
    click.echo(f"oracle AUROC, 30-day readmission: {o['oracle_auroc_readmission_30d']:.3f} "
               f"(rate {o['readmission_30d_rate']:.2%})")  # fmt: skip
    if realism:
        from datetime import timedelta

        from riskstrat.synth.realism import load_extract, realism_table

        con = load_extract(summary.out_dir / "extract")
        table = realism_table(con, as_of=end + timedelta(days=1))
        click.echo(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))


COMMANDS = [synth]
