"""Outreach test fixtures: a small listed-and-explained world written to a run folder, and an
MLflow database with both tasks' champions trained (fast settings) on the small store."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from outreach_frames import (
    AS_OF,
    CODES,
    crisis_scores,
    no_outcomes,
    outreach_store,
    people,
    practices,
)
from outreach_model import SPECS, TinyModel, frame

from riskstrat.explain import explain, load_actions
from riskstrat.outreach.config import load_outreach_config, load_pathways
from riskstrat.outreach.engine import build_lists
from riskstrat.outreach.store_io import contacts_reader
from riskstrat.outreach.writers import write_practice_files


@pytest.fixture(scope="session")
def written(tmp_path_factory):
    config = load_outreach_config()
    pathways = load_pathways(config)
    pop = people(600, practices=CODES)
    pop.loc[0, "risk"] = 0.99  # the patient with hostile contact values is listed first
    pop.loc[3, "risk"] = 0.98
    read = crisis_scores(pop.iloc[6:66]).assign(
        task="readmission_30d", index_date=pd.Timestamp("2025-05-30"), index_spell_id="s"
    )
    prev = crisis_scores(pop).assign(risk=lambda d: d["risk"] - 0.06)
    lists = build_lists(
        pd.concat([crisis_scores(pop), read], ignore_index=True),
        people=pop,
        outcomes=no_outcomes(),
        practices=practices(CODES, capacity=30),
        pathways=pathways,
        config=config,
        as_of=AS_OF,
        previous=prev,
    )
    X = frame(len(lists), seed=2).set_index(lists.index)
    lists = lists.join(explain(TinyModel(), X, texts=SPECS, actions=load_actions()))
    lists.loc[lists.index[1], "reason_1"] = "=1+1"  # hostile text from a template, too
    run = tmp_path_factory.mktemp("run")
    con = outreach_store(pop)
    files = write_practice_files(
        lists,
        run_dir=run,
        contacts_reader=contacts_reader(con),
        pathways=pathways,
        practices=practices(CODES, capacity=30),
        as_of=AS_OF,
    )
    return {"run": run, "lists": lists, "pop": pop, "files": files, "pathways": pathways}


@pytest.fixture(scope="session")
def outreach_champions(fast_champions: Path) -> Path:
    """An MLflow sqlite database where crisis and readmission_30d have champions."""
    return fast_champions
