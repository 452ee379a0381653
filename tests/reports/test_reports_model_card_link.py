"""The report names the model card inside riskstrat's output folder, never by the server's
absolute path (the report is read away from the server: emailed, shared)."""

from __future__ import annotations

import json
from datetime import date

from riskstrat.config import Settings
from riskstrat.models.card import load_card, write_card
from riskstrat.reports.context import Context
from riskstrat.reports.loader import model_card_context
from riskstrat.reports.section_context import context_section
from riskstrat.reports.settings import load_report_config
from riskstrat.tasks import load_task


def test_the_model_card_is_named_inside_the_output_folder(run_settings: Settings) -> None:
    uri, out = run_settings.paths.mlflow_uri, run_settings.paths.out_dir
    card = load_card("crisis", tracking_uri=uri)
    write_card("crisis", tracking_uri=uri, out_dir=out / "model_cards")
    context = model_card_context(
        task=load_task("crisis"),
        name=card.name,
        version=card.version,
        settings=run_settings,
        config=load_report_config(),
    )
    assert context.card_path == f"model_cards/{card.name}-v{card.version}.html"
    page = Context(as_of=date(2025, 12, 29), extract_date=None, data_from=None, horizon_days=90,
                   model=context)  # fmt: skip
    text = json.dumps(context_section(page, task_title="crisis", suppression="under 5"))
    assert f"{context.card_path} in riskstrat's output folder" in text
    assert str(out) not in text
