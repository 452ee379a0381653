"""Outreach test fixtures: a small listed-and-explained world written to a run folder, and an
MLflow database with both tasks' champions trained (fast settings) on the small store."""

from __future__ import annotations

import shutil
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


#: Small, fast model settings: these tests exercise outreach, not model quality.
FAST = {
    "lightgbm": {"n_estimators": 40, "learning_rate": 0.1, "num_leaves": 15,
                 "min_child_samples": 20},
    "early_stopping": {"rounds": 10},
    "evaluation": {"bootstrap": 10, "shap_sample": 200, "min_group_rows": 50},
}  # fmt: skip


@pytest.fixture(scope="session")
def outreach_champions(small_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An MLflow sqlite database where crisis and readmission_30d have champions."""
    from riskstrat.config import Paths, Settings
    from riskstrat.models.train import train_task

    home = tmp_path_factory.mktemp("outreach-champions")
    db = home / "mlflow.db"
    settings = Settings(
        paths=Paths(data_dir=home, store=home / "store.duckdb", out_dir=home / "out",
                    source_dir=home / "extract", mlflow_uri=f"sqlite:///{db}")
    )  # fmt: skip
    shutil.copy(small_store, settings.paths.store)
    for task in ("crisis", "readmission_30d"):
        train_task(task, settings=settings, overrides=FAST)
    return db
