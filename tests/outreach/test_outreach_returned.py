"""What a list's header says about the practice's returned sheets and a day's discharges, as a
nurse reads it (found in a nurse's month on the demo world, 2026-01)."""

from __future__ import annotations

from riskstrat.outreach.header import ROWS_CLOSE, returned_text
from riskstrat.registry.errors import UNREADABLE_FILE, UNSUPPORTED_FEEDBACK

SHEET = "feedback/Z00002_early_intervention_2025-12-29.xlsx"
AGAIN = "feedback/Z00002_early_intervention_2025-12-29 (1).xlsx"
SLIPS = [
    (11, "outcome", "Already under care", "allowed"),
    (13, "outcome", "Declined.", "allowed"),
    (14, "outcome", "DNA", "allowed"),
]


def test_a_sheet_returned_twice_names_each_slip_once():
    """The same sheet saved twice ('... (1).xlsx') listed its three typos as '6 entries', each
    twice, so the nurse counted six slips to correct. Now one entry per slip names both files."""
    # The store's order (by file name): the copy sorts first.
    rejects = [(AGAIN, *slip) for slip in SLIPS] + [(SHEET, *slip) for slip in SLIPS]
    text = returned_text(rejects)
    assert text.startswith("Not used from your returned sheets (3 entries): ")
    assert text.count("'DNA' is not one of the choices") == 1
    assert (
        "Z00002_early_intervention_2025-12-29.xlsx row 11 (the same in "
        "Z00002_early_intervention_2025-12-29 (1).xlsx), Outcome: 'Already under care' is not "
        "one of the choices" in text
    )
    # Different slips in two files stay two entries; a file that could not be read is its own.
    other = [(SHEET, 11, "outcome", "DNA", "allowed"), (AGAIN, 12, "outcome", "DNA", "allowed")]
    assert returned_text(other).startswith("Not used from your returned sheets (2 entries): ")
    unreadable = [(SHEET, 0, "*", "", "readable"), (AGAIN, 0, "*", "", "readable")]
    assert returned_text(unreadable).count("the file could not be read") == 2


def test_a_file_set_aside_says_what_to_do_not_the_rule_name():
    """A list saved as .xls was told as 'the file could not be read (readable)'; the stored
    problem (what ingest keeps, without the server's path) says to save it as .xlsx."""
    xls = "feedback/Z00002_early_intervention_2025-12-29.xls"
    stored = UNSUPPORTED_FEEDBACK.format(file=xls, fmt="xls")
    text = returned_text([(xls, 0, "*", stored, "readable")])
    assert "(readable)" not in text
    # nothing of a whole file was recorded: no "the rest of it was recorded" after it alone
    assert text == (
        "Not used from your returned sheets (1 entry): Z00002_early_intervention_2025-12-29.xls: "
        "a .xls file cannot be read, so nothing in it was used; open it in Excel, save it as an "
        "Excel Workbook (.xlsx) and return it again."
    )
    with_row = returned_text([(xls, 0, "*", stored, "readable"), (SHEET, *SLIPS[0])])
    assert with_row.endswith(ROWS_CLOSE)
    odd = UNREADABLE_FILE.format(file=xls, problem="not UTF-8")
    assert "could not be read (not UTF-8); nothing in it was used" in returned_text(
        [(xls, 0, "*", odd, "readable")]
    )


def test_one_discharge_reviewed_and_listed_reads_as_english():
    """Thursday 08/01/2026's list said '1 discharges reviewed: 1 listed, 0 not.'"""
    import pandas as pd

    from riskstrat.outreach.config import load_outreach_config, load_pathways
    from riskstrat.outreach.engine import LEFT_OUT_COLUMNS, Selection
    from riskstrat.outreach.header import left_out_text

    config = load_outreach_config()
    post = load_pathways(config)["post_discharge"]

    def said(reviewed: int, left: list[tuple[str, int]]) -> str:
        rows = pd.DataFrame(
            [("P1", "post_discharge", r, n) for r, n in left], columns=list(LEFT_OUT_COLUMNS)
        )
        sel = Selection(
            lists=pd.DataFrame(), left_out=rows, reviewed={("P1", "post_discharge"): reviewed}
        )
        listed = reviewed - sum(n for _, n in left)
        return left_out_text(
            "post_discharge", post, selection=sel, practice_code="P1", config=config,
            n_listed=listed,
        )  # fmt: skip

    assert said(1, []) == "1 discharge reviewed: 1 listed."
    assert said(3, [("below_rule", 2)]) == (
        "3 discharges reviewed: 1 listed, 2 not: 2 below the list's rule."
    )


def test_a_day_without_discharges_says_so_once_in_each_format(tmp_path):
    """A post-discharge day with no discharge to review (every practice's list the day after
    the demo extract's last discharges): the header said "0 discharges reviewed: 0 listed."
    above "Nobody meets this list's criteria this time.", and the spreadsheet said only the
    first. Now one sentence a nurse reads, once in the HTML and once in the XLSX."""
    from datetime import date

    import pandas as pd
    from openpyxl import load_workbook

    from riskstrat.outreach.config import load_outreach_config, load_pathways
    from riskstrat.outreach.engine import LEFT_OUT_COLUMNS, Selection
    from riskstrat.outreach.header import NO_DISCHARGES, NOBODY
    from riskstrat.outreach.listfiles import write_practice
    from riskstrat.outreach.writers import practice_jobs

    config = load_outreach_config()
    every = load_pathways(config)
    pathways = {n: every[n] for n in ("post_discharge", "care_home")}
    sel = Selection(lists=pd.DataFrame(), left_out=pd.DataFrame(columns=list(LEFT_OUT_COLUMNS)))
    practices = pd.DataFrame(
        {"practice_code": ["P1"], "practice_name": ["Practice One"], "weekly_capacity": [14]}
    )
    (job,) = practice_jobs(
        {}, run_dir=tmp_path, pathways=pathways, practices=practices, as_of=date(2025, 12, 30),
        model_labels={}, selection=sel, config=config,
    )  # fmt: skip
    post, care = job.lists
    header = post.context["header"]
    assert not any("discharges reviewed" in line for line in header.lines())
    assert post.context["empty_text"] == NO_DISCHARGES
    assert care.context["empty_text"] == NOBODY  # a weekly list: as before
    write_practice(job)
    html = (tmp_path / "practices" / "P1" / "post_discharge.html").read_text(encoding="utf-8")
    assert html.count("No discharges to follow up") == 1 and "0 discharges" not in html
    assert "Nobody meets this list" not in html
    sheet = load_workbook(tmp_path / "practices" / "P1" / "post_discharge.xlsx")["list"]
    title = [str(c.value) for c in sheet["A"] if c.value]
    assert title.count(NO_DISCHARGES) == 1
    care_sheet = load_workbook(tmp_path / "practices" / "P1" / "care_home.xlsx")["list"]
    assert NOBODY in [c.value for c in care_sheet["A"]]


def test_the_header_says_which_extract_the_list_comes_from_and_what_it_cannot_know(tmp_path):
    """A person who died (or moved, or was admitted) after the extract was taken is still on
    the list a nurse reads days later: the list cannot know. Nothing on it said how old its
    data were; now every list names its extract and says to check the clinical record."""
    from datetime import date

    import duckdb
    import pandas as pd

    from riskstrat.outreach.config import load_outreach_config, load_pathways
    from riskstrat.outreach.engine import LEFT_OUT_COLUMNS, Selection
    from riskstrat.outreach.listfiles import write_practice
    from riskstrat.outreach.writers import practice_jobs
    from riskstrat.registry.store import EXTRACTS, EXTRACTS_DDL, store_extract_date

    con = duckdb.connect()
    assert store_extract_date(con) is None
    con.execute(EXTRACTS_DDL)
    con.execute(
        f"INSERT INTO {EXTRACTS} (extract_date, content_hash, ingested_at) VALUES "
        "(DATE '2026-01-04', 'a', TIMESTAMP '2026-01-04 20:00'), "
        "(DATE '2025-12-28', 'b', TIMESTAMP '2026-01-05 06:00')"  # replaced by an older one
    )
    assert store_extract_date(con) == date(2025, 12, 28)
    config = load_outreach_config()
    pathways = {"early_intervention": load_pathways(config)["early_intervention"]}
    sel = Selection(lists=pd.DataFrame(), left_out=pd.DataFrame(columns=list(LEFT_OUT_COLUMNS)),
                    extract_date=date(2025, 12, 28))  # fmt: skip
    practices = pd.DataFrame(
        {"practice_code": ["P1"], "practice_name": ["Practice One"], "weekly_capacity": [14]}
    )
    (job,) = practice_jobs(
        {}, run_dir=tmp_path, pathways=pathways, practices=practices, as_of=date(2025, 12, 30),
        model_labels={}, selection=sel, config=config,
    )  # fmt: skip
    said = (
        "From the extract of 28/12/2025: a death, move or hospital admission since then is not "
        "known to this list; check the clinical record before contacting anyone."
    )
    assert said in job.lists[0].context["header"].lines()
    write_practice(job)
    from openpyxl import load_workbook

    sheet = load_workbook(tmp_path / "practices" / "P1" / "early_intervention.xlsx")["list"]
    assert said in [c.value for c in sheet["A"]]


def test_a_list_date_typed_into_the_future_is_said_in_words_not_the_rule_name():
    """A List date typed as 2099 (after today; a list newer than the extract waits for the next
    one untold) read "'2099-07-01' breaks rule not_after_extract" in the next list's header."""
    text = returned_text([(SHEET, 12, "listed_on", "2099-07-01", "not_after_extract")])
    assert "breaks rule" not in text
    assert "'2099-07-01' is a date still to come (the list's date is printed at its top)" in text
