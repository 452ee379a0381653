"""A whole run's list files scanned for the list rules (issue 11's "Done when"), on the small
synthetic store with real champions: the Monday run, then Tuesday's post-discharge run whose
discharge window overlaps Monday's (so the same discharges are scored on both days)."""

from __future__ import annotations

import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from riskstrat.config import project_root
from riskstrat.explain.actions import JOIN, load_actions
from riskstrat.features.catalogue import feature_dir
from riskstrat.outreach.audit import AUDIT_RULES, audit_lists, listed_rows
from riskstrat.outreach.config import load_outreach_config, load_pathways
from riskstrat.registry.store import connect
from riskstrat.runs.pipeline import run_once
from riskstrat.runs.state import RunOptions

MONDAY = date(2025, 12, 29)  # the Monday after the small population's extract (28 Dec)
TUESDAY = MONDAY + timedelta(days=1)
#: Reason wording the lists must never show (issue 11 item 4).
DEMOGRAPHIC = re.compile(r"^(?:Aged \d|Age \d|Sex\b|Female|Male|Ethnicity|Ethnic group|Lives in IMD"
                         r"|IMD decile|Deprivation)", re.IGNORECASE)  # fmt: skip
ZERO = re.compile(r"(?:^|\s)0(?:\.0+)? (?:nights?|emergency|elective|A&E|GP|visits?|contacts?|"
                  r"admissions?|medicines?|drugs?|home)", re.IGNORECASE)  # fmt: skip
#: One stay said as two reasons (its admission alone, and its discharge alone).
ADMISSION_ALONE = re.compile(r"^(?:New: )?(?:previous )?emergency admission (?:\d+ \w+ ago|today|"
                             r"yesterday)(?: \(.*\))?$", re.IGNORECASE)  # fmt: skip
DISCHARGE_ALONE = re.compile(r"^(?:New: )?(?:discharged from hospital|previous discharge) ",
                             re.IGNORECASE)  # fmt: skip
WINDOW = re.compile(r"\s*(in|over) the (last|past) [\w\s]+$|\d+(\.\d+)?", re.IGNORECASE)


@pytest.fixture
def home(run_settings, monkeypatch, tmp_path):
    """A project copy whose post-discharge window is 4 days (so Monday's and Tuesday's
    windows overlap), with its own store, outputs and the trained champions."""
    root = tmp_path / "project"
    for folder in ("configs", "features", "outreach"):
        shutil.copytree(project_root() / folder, root / folder)
    cfg = root / "configs" / "outreach.yaml"
    cfg.write_text(
        cfg.read_text(encoding="utf-8").replace(
            "readmission_lookback_days: null", "readmission_lookback_days: 4"
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("RISKSTRAT_HOME", str(root))
    return run_settings


def reason_violations(rows: pd.DataFrame) -> dict[str, int]:
    """Rows breaking the reason rules, judged from the text a practice sees."""
    reasons = rows[["reason_1", "reason_2", "reason_3"]].map(
        lambda t: re.sub(r" \(modifiable\)$|; modifiable(?=\)$)", "", t)
    )
    flat = reasons.stack()
    flat = flat[flat != ""]
    concepts = reasons.map(lambda t: WINDOW.sub("", t).strip().lower() if t else "")
    duplicated = concepts.apply(
        lambda r: len([c for c in r if c]) != len({c for c in r if c}), axis=1
    )
    return {
        "demographic_reason": int(flat.str.contains(DEMOGRAPHIC).sum()),
        "zero_reason": int(flat.str.contains(ZERO).sum()),
        "duplicate_concept": int(duplicated.sum()),
    }


def admission_and_discharge_apart(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows whose reasons say an emergency admission and a discharge as two reasons."""
    apart = rows[["reason_1", "reason_2", "reason_3"]].apply(
        lambda r: (
            any(ADMISSION_ALONE.search(t) for t in r) and any(DISCHARGE_ALONE.search(t) for t in r)
        ),
        axis=1,
    )
    return rows[apart]


#: The last discharge before each row's cutoff and, back through its transfer chain (the chain
#: link of features/transfer_link.sql), the admission method of the stay's first spell. On a
#: post-discharge row the stay ending at the cutoff (this discharge, back through its legs) is
#: this stay, not a previous one (features/index_stay.sql), so its earlier legs are skipped.
STAY_METHOD_SQL = """
WITH RECURSIVE transfer_link AS ({link}),
this_stay AS (
  SELECT a.patient_id, s.spell_id, 0 AS depth
  FROM apart_rows a JOIN spells s ON s.patient_id = a.patient_id AND s.discharge_date = a.cutoff
  WHERE a.after_discharge
  UNION ALL
  SELECT i.patient_id, t.prev_spell_id, i.depth + 1
  FROM this_stay i
  JOIN transfer_link t ON t.leg_spell_id = i.spell_id AND t.patient_id = i.patient_id
  WHERE i.depth < 10
),
last_discharge AS (
  SELECT a.patient_id, arg_max(s.spell_id, s.discharge_date) AS spell_id
  FROM apart_rows a JOIN spells s ON s.patient_id = a.patient_id AND s.discharge_date < a.cutoff
  WHERE s.spell_id NOT IN (SELECT spell_id FROM this_stay)
  GROUP BY a.patient_id
),
back AS (
  SELECT patient_id, spell_id, 0 AS depth FROM last_discharge
  UNION ALL
  SELECT b.patient_id, t.prev_spell_id, b.depth + 1
  FROM back b JOIN transfer_link t ON t.leg_spell_id = b.spell_id AND t.patient_id = b.patient_id
  WHERE b.depth < 10
)
SELECT b.patient_id, arg_max(s.admission_method, b.depth) AS method, max(b.depth) AS legs
FROM back b JOIN spells s ON s.spell_id = b.spell_id
GROUP BY b.patient_id
"""


def one_stay_twice(rows: pd.DataFrame, con: duckdb.DuckDBPyConnection, *, as_of: date) -> int:
    """Rows saying one stay as two reasons: admission and discharge apart although the store's
    last discharge before the row's index (a post-discharge row: before this discharge) ended a
    stay that began as an emergency admission, its own or, through transfer legs, its chain's
    first spell's (two stays may rightly be two reasons)."""
    return int((stay_methods(rows, con, as_of=as_of)["method"] == "emergency").sum())


def stay_methods(
    rows: pd.DataFrame, con: duckdb.DuckDBPyConnection, *, as_of: date
) -> pd.DataFrame:
    """Per patient of the rows saying admission and discharge apart: how the stay their last
    discharge ended began (`method`) and the transfer legs it took to get there (`legs`)."""
    apart = admission_and_discharge_apart(rows)
    if apart.empty:
        return pd.DataFrame({"patient_id": [], "method": [], "legs": []})
    cutoff = apart.get("discharge_date", pd.Series("", index=apart.index)).replace("", None)
    index = pd.DataFrame(
        {
            "patient_id": apart["patient_id"].to_numpy(),
            "cutoff": pd.to_datetime(cutoff.fillna(as_of.isoformat())).dt.date.to_numpy(),
            "after_discharge": cutoff.notna().to_numpy(),
        }
    )
    link = (feature_dir() / "transfer_link.sql").read_text(encoding="utf-8")
    con.register("apart_rows", index)
    try:
        return con.execute(STAY_METHOD_SQL.format(link=link)).df()
    finally:
        con.unregister("apart_rows")


@pytest.mark.slow
def test_a_run_and_the_next_working_day_keep_every_list_rule(home):
    config = load_outreach_config()
    pathways = load_pathways(config)
    actions = load_actions()
    options = RunOptions(ingest=False, report=False, extract_date=date(2025, 12, 28))
    run_once(as_of=MONDAY, settings=home, options=options)
    run_once(as_of=TUESDAY, pathways=["post_discharge"], settings=home, options=options)
    runs = home.paths.out_dir / "runs"
    monday, tuesday = runs / MONDAY.isoformat(), runs / TUESDAY.isoformat()
    with connect(home.paths.store) as con:
        found = audit_lists(monday, con, as_of=MONDAY, config=config, pathways=pathways,
                            actions=actions)  # fmt: skip
        again = audit_lists(tuesday, con, as_of=TUESDAY, config=config,
                            pathways={"post_discharge": pathways["post_discharge"]},
                            actions=actions, previous_run=monday)  # fmt: skip
        overlap = _scored_both_days(con)
    assert found == dict.fromkeys(AUDIT_RULES, 0)
    assert again == dict.fromkeys(AUDIT_RULES, 0)
    rows = listed_rows(monday)
    assert set(rows["pathway"]) >= {"early_intervention", "post_discharge"}
    post = rows[rows["pathway"] == "post_discharge"]
    assert len(post) > 0 and (post["actions"].str.split(JOIN).str[0]
                              == actions.pathways["post_discharge"].action).all()  # fmt: skip
    # Non-vacuous: discharges scored on both days, some listed on Monday, none again on Tuesday.
    assert len(overlap) > 0
    listed_monday = set(post["patient_id"]) & set(overlap["patient_id"])
    assert listed_monday
    tues = listed_rows(tuesday)
    tues_post = tues[tues["pathway"] == "post_discharge"] if len(tues) else tues
    assert not listed_monday & set(tues_post.get("patient_id", []))
    # Reason rules (issue 11 item 4): no demographic reason, no zero, one per concept, no
    # "recent" for old events.
    reasons = reason_violations(rows)
    assert not any(reasons.values()), reasons
    with connect(home.paths.store) as con:
        assert one_stay_twice(rows, con, as_of=MONDAY) == 0


def _scored_both_days(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute(
        "SELECT patient_id, index_spell_id FROM scores WHERE task = 'readmission_30d' "
        "AND as_of = ? INTERSECT SELECT patient_id, index_spell_id FROM scores "
        "WHERE task = 'readmission_30d' AND as_of = ?",
        [MONDAY, TUESDAY],
    ).df()


def test_reason_scan_catches_each_kind_of_bad_reason():
    """The scan is not blind: each rule fires on a constructed row and not on a clean one."""
    rows = pd.DataFrame(
        {
            "reason_1": ["Aged 83", "0 nights in hospital in the last 3 months",
                         "207 nights in hospital in the last 12 months", "On the HF register",
                         "New: discharged from hospital yesterday (+7 points)",
                         "Emergency admission 26 days ago, discharged the same day"],
            "reason_2": ["", "", "295 nights in hospital in the last 2 years",
                         "Emergency admission 6 days ago",
                         "New: emergency admission 6 days ago (+4 points)", "Lives alone"],
            "reason_3": ["", "", "", "Frailty: moderate (eFI 0.31; modifiable)", "", ""],
        }
    )  # fmt: skip
    assert reason_violations(rows) == {"demographic_reason": 1, "zero_reason": 1,
                                       "duplicate_concept": 1}  # fmt: skip
    assert reason_violations(rows.iloc[[3, 5]]) == dict.fromkeys(
        ("demographic_reason", "zero_reason", "duplicate_concept"), 0
    )
    assert list(admission_and_discharge_apart(rows).index) == [4]


def test_one_stay_twice_counts_only_an_emergency_stay_said_twice(tmp_path: Path):
    """Admission and discharge said apart are a fault only when the last discharge ended an
    emergency stay, also through transfer legs; after a planned stay, or a transfer that is not
    a chain link (admitted another day), they are two stays, rightly two reasons."""
    text = {"reason_1": "Emergency admission 40 days ago",
            "reason_2": "Discharged from hospital 12 days ago", "reason_3": ""}  # fmt: skip
    people = ("P1", "P2", "P3", "P4", "P5")
    rows = pd.DataFrame([{**text, "patient_id": p} for p in people]
                        + [{**text, "patient_id": "P6", "reason_2": "Lives alone"}])  # fmt: skip
    con = duckdb.connect(str(tmp_path / "s.duckdb"))
    con.execute("CREATE TABLE spells (spell_id VARCHAR, patient_id VARCHAR, admission_date DATE, "
                "discharge_date DATE, admission_method VARCHAR, "
                "discharge_destination VARCHAR)")  # fmt: skip
    con.execute(
        "INSERT INTO spells VALUES ('a', 'P1', '2025-11-19', '2025-12-17', 'emergency', 'home'), "
        "('b', 'P2', '2025-11-19', '2025-11-26', 'emergency', 'home'), "
        "('c', 'P2', '2025-12-17', '2025-12-17', 'elective', 'home'), "
        # P3: an emergency admission transferred twice, home from the last leg
        "('d', 'P3', '2025-11-19', '2025-11-22', 'emergency', 'other_hospital'), "
        "('e', 'P3', '2025-11-22', '2025-12-01', 'transfer', 'other_hospital'), "
        "('f', 'P3', '2025-12-01', '2025-12-17', 'transfer', 'home'), "
        # P4: the next spell began a day after the transfer out: not one chain
        "('g', 'P4', '2025-11-19', '2025-11-22', 'emergency', 'other_hospital'), "
        "('h', 'P4', '2025-11-23', '2025-12-17', 'transfer', 'home'), "
        # P5: a planned admission transferred: one stay, not an emergency one
        "('i', 'P5', '2025-11-19', '2025-11-22', 'elective', 'other_hospital'), "
        "('j', 'P5', '2025-11-22', '2025-12-17', 'transfer', 'home'), "
        "('k', 'P6', '2025-11-19', '2025-12-17', 'emergency', 'home')"
    )
    methods = stay_methods(rows, con, as_of=MONDAY).set_index("patient_id")
    assert methods.loc[list(people), "legs"].tolist() == [0, 0, 2, 0, 1]
    assert one_stay_twice(rows, con, as_of=MONDAY) == 2  # P1 and P3
    con.close()


def test_one_stay_twice_skips_a_post_discharge_rows_own_transfer_legs(tmp_path: Path):
    """A post-discharge row whose discharge ends a transfer leg: the emergency spell that began
    this stay is not its previous stay (its reasons name earlier stays, rightly apart)."""
    rows = pd.DataFrame([{"reason_1": "Previous emergency admission 11 weeks ago",
                          "reason_2": "Previous discharge 36 days ago", "reason_3": "",
                          "patient_id": "P1", "discharge_date": "2025-05-11"}])  # fmt: skip
    con = duckdb.connect(str(tmp_path / "s.duckdb"))
    con.execute("CREATE TABLE spells (spell_id VARCHAR, patient_id VARCHAR, admission_date DATE, "
                "discharge_date DATE, admission_method VARCHAR, "
                "discharge_destination VARCHAR)")  # fmt: skip
    con.execute(
        "INSERT INTO spells VALUES ('a', 'P1', '2025-02-23', '2025-03-20', 'emergency', 'home'), "
        "('b', 'P1', '2025-04-05', '2025-04-05', 'elective', 'home'), "
        "('c', 'P1', '2025-04-21', '2025-04-21', 'emergency', 'other_hospital'), "
        "('d', 'P1', '2025-04-21', '2025-05-11', 'transfer', 'home')"
    )
    assert stay_methods(rows, con, as_of=MONDAY)["method"].tolist() == ["elective"]
    assert one_stay_twice(rows, con, as_of=MONDAY) == 0
    con.close()


def test_audit_counts_each_broken_rule(tmp_path: Path):
    """audit_lists on hand-made list files: every rule can fail."""
    from riskstrat.outreach.config import load_outreach_config
    from riskstrat.registry.contract import TABLES, ddl

    config = load_outreach_config()
    pathways = load_pathways(config)
    actions = load_actions()
    con = duckdb.connect()
    for name in ("patients", "conditions", "spells", "ae_attendances"):
        con.execute(ddl(TABLES[name]))
    con.execute(
        "INSERT INTO patients VALUES ('a','P1','1940-01-01','F','White',NULL,5,'2020-01-01',"
        "NULL,NULL,NULL,false,false), ('b','P1','1940-01-01','F','White',NULL,5,'2020-01-01',"
        "NULL,NULL,NULL,false,false)"
    )
    con.execute("INSERT INTO conditions VALUES ('b','PC','2024-01-01',NULL)")
    con.execute(
        "INSERT INTO spells VALUES ('s1','a',NULL,'2025-12-20',NULL,'emergency','I50',NULL)"
    )
    folder = tmp_path / "run" / "practices" / "P1"
    folder.mkdir(parents=True)
    ltc = "Long-term conditions review (combined annual review)"
    pd.DataFrame(
        {"practice_code": ["P1", "P1"], "patient_id": ["a", "b"],
         "pathway": ["post_discharge", "post_discharge"], "discharge_date": ["2025-12-24"] * 2,
         "actions": [ltc, f"{actions.pathways['post_discharge'].action}{JOIN}{ltc}"]}
    ).to_csv(folder / "post_discharge.csv", index=False)  # fmt: skip
    found = audit_lists(tmp_path / "run", con, as_of=MONDAY, config=config, pathways=pathways,
                        actions=actions, previous_run=tmp_path / "run")  # fmt: skip
    assert found == {"in_hospital": 1, "post_discharge_first_action": 1,
                     "contradicting_action": 2, "special_group_discharge_unlisted": 0,
                     "repeated_discharge": 2}  # fmt: skip
