"""Checks over a published run's list files: how many rows break each list rule (counts only,
never identifiers). The demo prints them and the tests assert they are 0.

Rules (docs/outreach.md): nobody in hospital now on a contact list; every post-discharge row's
first action is the follow-up call; no row carries an action its pathway or group rules out (no
long-term conditions review for a palliative patient); every palliative-care or care-home
discharge at or above the post-discharge threshold is on a list (unless in hospital, opted out or
already listed for that discharge); and, given the previous working day's run, nobody is on both
days' post-discharge lists for the same discharge.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from riskstrat.explain.actions import JOIN, Actions
from riskstrat.outreach.config import OutreachConfig, Pathway
from riskstrat.outreach.eligibility import eligibility
from riskstrat.outreach.store_io import LISTED_TABLE, has_table, load_people

POST = "post_discharge"
AUDIT_RULES = (
    "in_hospital", "post_discharge_first_action", "contradicting_action",
    "special_group_discharge_unlisted", "repeated_discharge",
)  # fmt: skip


def listed_rows(run_dir: Path) -> pd.DataFrame:
    """Every list CSV of a run (feedback.csv aside), with its pathway."""
    frames = [
        pd.read_csv(path, dtype="str", keep_default_na=False)
        for path in sorted(Path(run_dir).glob("practices/*/*.csv"))
        if path.name != "feedback.csv"
    ]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def audit_lists(
    run_dir: Path,
    con: duckdb.DuckDBPyConnection,
    *,
    as_of: date,
    config: OutreachConfig,
    pathways: dict[str, Pathway],
    actions: Actions,
    previous_run: Path | None = None,
) -> dict[str, int]:
    """Rule -> rows breaking it (AUDIT_RULES; 0 everywhere is a clean run)."""
    rows = listed_rows(run_dir)
    people = load_people(con, as_of=as_of)
    status = eligibility(people, as_of=as_of, config=config).set_index("patient_id")
    found = dict.fromkeys(AUDIT_RULES, 0)
    if rows.empty:
        return found
    found["in_hospital"] = int(rows["patient_id"].map(status["in_hospital"]).fillna(False).sum())
    if POST in pathways and POST in actions.pathways:
        post = rows[rows["pathway"] == POST]
        first = post["actions"].str.split(JOIN).str[0]
        found["post_discharge_first_action"] = int((first != actions.pathways[POST].action).sum())
    group = rows["patient_id"].map(status["group"])
    for rule in actions.rules:
        if not rule.not_for:
            continue
        ruled_out = rows["pathway"].isin(rule.not_for) | group.isin(rule.not_for)
        has = rows["actions"].str.split(JOIN).map(lambda a, r=rule: r.action in a)
        found["contradicting_action"] += int((ruled_out & has).sum())
    if POST in pathways:
        found["special_group_discharge_unlisted"] = _unlisted_special_discharges(
            con, rows=rows, status=status, as_of=as_of, pathway=pathways[POST]
        )
    if previous_run is not None and POST in pathways:
        before = listed_rows(previous_run)
        if not before.empty:
            keys = ["patient_id", "discharge_date"]
            both = rows.loc[rows["pathway"] == POST, keys].merge(
                before.loc[before["pathway"] == POST, keys], on=keys
            )
            found["repeated_discharge"] = len(both)
    return found


def _unlisted_special_discharges(
    con: duckdb.DuckDBPyConnection,
    *,
    rows: pd.DataFrame,
    status: pd.DataFrame,
    as_of: date,
    pathway: Pathway,
) -> int:
    threshold = pathway.select.min_risk
    if threshold is None or not has_table(con, "scores"):
        return 0
    scores = con.execute(
        "SELECT patient_id, index_spell_id, risk FROM scores WHERE task = ? AND as_of = ? "
        "AND risk >= ?",
        [pathway.task, as_of, threshold],
    ).df()
    known = scores["patient_id"].isin(status.index)
    scores = scores[known]
    who = status.loc[scores["patient_id"]]
    special = who["group"].isin(["palliative_care", "care_home"]).to_numpy()
    excused = (who["in_hospital"] | who["opted_out"]).to_numpy().copy()
    before = _listed_before(con, as_of=as_of, pathway=pathway.name)
    key = scores["patient_id"] + "|" + scores["index_spell_id"].fillna("")
    excused |= key.isin(before).to_numpy()
    on_list = scores["patient_id"].isin(set(rows["patient_id"])).to_numpy()
    return int((special & ~excused & ~on_list).sum())


def _listed_before(con: duckdb.DuckDBPyConnection, *, as_of: date, pathway: str) -> set[str]:
    if not has_table(con, LISTED_TABLE):
        return set()
    got = con.execute(
        f"SELECT patient_id || '|' || coalesce(index_spell_id, '') FROM {LISTED_TABLE} "
        "WHERE pathway = ? AND as_of < ?",
        [pathway, as_of],
    ).fetchall()
    return {r[0] for r in got}
