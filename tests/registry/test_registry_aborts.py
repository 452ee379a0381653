"""An unusable table stops the ingest with one exact message; the store stays byte for byte."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from registry_extracts import EXTRACT_DATE, base_rows, read_csv_rows, settings, write_extract

from riskstrat.cli import main
from riskstrat.registry import errors
from riskstrat.registry.contract import TABLES
from riskstrat.registry.ingest import INGESTS_DIR, content_hash, ingest
from riskstrat.registry.readers import UNREAD_FILE, locate


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A store holding the valid base extract."""
    path = tmp_path / "store.duckdb"
    ingest(
        write_extract(tmp_path / "good"),
        extract_date=EXTRACT_DATE,
        store_path=path,
        settings=settings(),
    )
    return path


def _stopped(source: Path, store: Path, message: str) -> None:
    """Ingest must raise exactly `message` and leave the store (and nothing beside it) unchanged."""
    before = _digest(store)
    siblings = sorted(p.name for p in store.parent.iterdir())
    with pytest.raises(errors.IngestError) as caught:
        ingest(source, extract_date=EXTRACT_DATE, store_path=store, settings=settings())
    assert str(caught.value) == message
    assert _digest(store) == before
    assert sorted(p.name for p in store.parent.iterdir()) == siblings  # no scratch files left


def test_missing_required_table(tmp_path: Path, store: Path) -> None:
    source = write_extract(tmp_path / "ex", skip=("spells",))
    _stopped(source, store, errors.MISSING_TABLE.format(source=source, table="spells"))


def test_missing_optional_table_is_a_warning(tmp_path: Path, store: Path) -> None:
    source = write_extract(tmp_path / "ex", skip=("observations",))
    report = ingest(source, extract_date=EXTRACT_DATE, store_path=store, settings=settings())
    assert f"optional table 'observations' absent from {source}" in report.warnings
    assert report.tables["observations"].rows_read == 0


def test_missing_required_column(tmp_path: Path, store: Path) -> None:
    rows = base_rows()
    for row in rows["patients"]:
        del row["sex"]
    source = write_extract(tmp_path / "ex", rows)
    message = errors.MISSING_COLUMN.format(file=source / "patients.csv", column="sex")
    _stopped(source, store, message)


@pytest.mark.parametrize(("delimiter", "said"), [(";", "semicolons (;)"), ("\t", "tabs")])
def test_a_semicolon_or_tab_separated_file_says_so(
    tmp_path: Path, store: Path, delimiter: str, said: str
) -> None:
    """Before: "column 'patient_id': rule required_column: the column is missing", for a file
    whose header holds every column (the data manager looked for a missing column)."""
    source = write_extract(tmp_path / "ex")
    path = source / "patients.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",", delimiter), encoding="utf-8")
    _stopped(source, store, errors.WRONG_DELIMITER.format(file=path, delimiter=said))


@pytest.mark.parametrize("renamed", ["dob", "Date of birth"])
def test_a_renamed_column_is_named_with_what_to_do(
    tmp_path: Path, store: Path, renamed: str
) -> None:
    """Before: only "the column is missing", not that the header has it under another name."""
    source = write_extract(tmp_path / "ex")
    path = source / "patients.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("date_of_birth", renamed, 1), encoding="utf-8")
    message = errors.RENAMED_COLUMN.format(
        file=path, column="date_of_birth", unknown=repr(renamed.lower()), hint=""
    )
    _stopped(source, store, message)
    assert "name the column 'date_of_birth' in the header line and ingest again" in message


def _report_dir(source: Path) -> Path:
    """Where an ingest of `source` writes its rejects and summary."""
    digest = content_hash([f for fs in locate(source).values() for f in fs])
    return settings().paths.data_dir / INGESTS_DIR / f"{EXTRACT_DATE}-{digest[:8]}"


def test_column_that_mostly_does_not_parse(tmp_path: Path, store: Path) -> None:
    rows = base_rows()
    for row in rows["patients"][:3]:
        row["date_of_birth"] = "born in spring"
    source = write_extract(tmp_path / "ex", rows)
    rejects = _report_dir(source) / "rejects" / "patients.csv"
    message = errors.UNPARSEABLE_COLUMN.format(
        file=source / "patients.csv",
        column="date_of_birth",
        bad=3,
        total=4,
        dtype="date",
        rejects=rejects,
    )
    _stopped(source, store, message)
    assert [r["row"] for r in read_csv_rows(rejects)] == ["1", "2", "3"]


def test_too_many_rejects(tmp_path: Path, store: Path) -> None:
    rows = base_rows()
    rows["gp_contacts"][0]["mode"] = "carrier pigeon"
    source = write_extract(tmp_path / "ex", rows)
    before = _digest(store)
    with pytest.raises(errors.IngestError) as caught:
        ingest(source, extract_date=EXTRACT_DATE, store_path=store, settings=settings())
    rejects = _report_dir(source) / "rejects" / "gp_contacts.csv"
    assert str(caught.value) == errors.TOO_MANY_REJECTS.format(
        file=source / "gp_contacts.csv",
        column="mode",
        rule="allowed",
        rejected=1,
        rows=3,
        share=1 / 3,
        limit=0.05,
        rejects=rejects,
    )
    assert _digest(store) == before
    # nothing lost: the rejected row is in the rejects file, the summary says why it stopped
    assert read_csv_rows(rejects) == [
        {"file": "gp_contacts.csv", "row": "1", "column": "mode", "value": "carrier pigeon",
         "rule": "allowed"}
    ]  # fmt: skip
    summary = json.loads((rejects.parent.parent / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "stopped"
    assert summary["error"] == str(caught.value)
    assert summary["tables"]["gp_contacts"]["rejected_by_rule"] == {"allowed": 1}


def test_reject_share_at_the_limit_passes(tmp_path: Path, store: Path) -> None:
    rows = base_rows()
    rows["gp_contacts"][0]["mode"] = "carrier pigeon"
    source = write_extract(tmp_path / "ex", rows)
    report = ingest(
        source,
        extract_date=EXTRACT_DATE,
        store_path=store,
        settings=settings(max_reject_share=1 / 3),
    )
    assert report.tables["gp_contacts"].rejected == 1


def test_malformed_csv_line(tmp_path: Path, store: Path) -> None:
    source = write_extract(tmp_path / "ex")
    path = source / "gp_contacts.csv"
    path.write_text(path.read_text(encoding="utf-8") + "p1,2024-01-01,telephone,true,extra\n")
    with pytest.raises(errors.IngestError) as caught:
        ingest(source, extract_date=EXTRACT_DATE, store_path=store, settings=settings())
    assert str(caught.value).startswith(f"{path}: line 5: rule readable: ")


def test_file_not_utf8(tmp_path: Path, store: Path) -> None:
    rows = base_rows()
    source = write_extract(tmp_path / "ex", rows)
    path = source / "contacts.csv"
    path.write_bytes("patient_id,nhs_number,given_name,family_name\np1,9400000001,Zoë,Ng\n"
                     .encode("latin-1"))  # fmt: skip
    with pytest.raises(errors.IngestError) as caught:
        ingest(source, extract_date=EXTRACT_DATE, store_path=store, settings=settings())
    assert str(caught.value).startswith(f"{path}: rule readable: ")
    assert "Zo" not in str(caught.value)  # identifiable values never in the message


def test_same_table_twice(tmp_path: Path, store: Path) -> None:
    source = write_extract(tmp_path / "ex")
    write_extract(tmp_path / "ex", {"spells": base_rows()["spells"]}, fmt="parquet")
    message = errors.AMBIGUOUS_TABLE.format(
        source=source, table="spells", files="spells.csv, spells.parquet"
    )
    _stopped(source, store, message)


def test_older_extract_never_replaces_newer(tmp_path: Path, store: Path) -> None:
    rows = base_rows()
    rows["practices"][0]["weekly_capacity"] = "25"  # a different extract
    source = write_extract(tmp_path / "ex", rows)
    earlier = EXTRACT_DATE.replace(day=1)
    before = _digest(store)
    with pytest.raises(errors.IngestError) as caught:
        ingest(source, extract_date=earlier, store_path=store, settings=settings())
    assert str(caught.value) == errors.EXTRACT_OLDER.format(
        source=source, extract_date=earlier, latest=EXTRACT_DATE, store=store
    )
    assert _digest(store) == before


def test_cli_stops_with_non_zero_exit_and_the_message(tmp_path: Path, store: Path) -> None:
    source = write_extract(tmp_path / "ex", skip=("patients",))
    before = _digest(store)
    result = CliRunner().invoke(
        main, ["ingest", str(source), "--extract-date", str(EXTRACT_DATE), "--store", str(store)]
    )
    assert result.exit_code == 2
    assert errors.MISSING_TABLE.format(source=source, table="patients") in result.output
    assert _digest(store) == before


def _with_contacts(n: int) -> dict[str, list[dict[str, str]]]:
    rows = base_rows()
    first = rows["gp_contacts"][0]
    rows["gp_contacts"] = [
        {**first, "contact_date": f"2024-{1 + i // 28:02d}-{1 + i % 28:02d}"} for i in range(n)
    ]
    return rows


def test_a_truncated_snapshot_table_stops_the_ingest(tmp_path: Path) -> None:
    """A gp_contacts.csv cut off at a line end (a copy interrupted, an export of one month):
    before, the ingest accepted it without a word (exit 0) and the table lost 40 % of its rows;
    on the demo store a spells file cut to 60 % and a conditions file cut to half ingested the
    same way. Now it stops naming file, table, rule and what to do; a real drop passes once
    ingest.max_row_drop_share allows it, and a drop within it passes."""
    store = tmp_path / "store.duckdb"
    first = write_extract(tmp_path / "first", _with_contacts(200))
    ingest(first, extract_date=EXTRACT_DATE, store_path=store, settings=settings())
    before = _digest(store)
    later = EXTRACT_DATE + dt.timedelta(days=7)
    source = write_extract(tmp_path / "cut", _with_contacts(120))
    with pytest.raises(errors.IngestError) as caught:
        ingest(source, extract_date=later, store_path=store, settings=settings())
    assert str(caught.value) == errors.TABLE_SHRUNK.format(
        file=source / "gp_contacts.csv",
        table="gp_contacts",
        rows=120,
        previous=200,
        previous_date=EXTRACT_DATE,
        drop=0.4,
        limit=0.2,
    )
    assert _digest(store) == before
    allowed = ingest(source, extract_date=later, store_path=store,
                     settings=settings(max_row_drop_share=0.5))  # fmt: skip
    assert allowed.tables["gp_contacts"].accepted == 120
    within = write_extract(tmp_path / "within", _with_contacts(100))  # 120 -> 100: 17 % fewer
    report = ingest(within, extract_date=later + dt.timedelta(days=7), store_path=store,
                    settings=settings())  # fmt: skip
    assert report.tables["gp_contacts"].accepted == 100


@pytest.mark.parametrize(
    ("days", "bad"),
    [
        (28, 32),  # most dates unreadable: mostly_parses
        (14, 8),  # 8 of 60 unreadable: max_reject_share
    ],
)
def test_month_first_dates_are_named_as_such(
    tmp_path: Path, store: Path, days: int, bad: int
) -> None:
    """A US-ordered gp_contacts.csv (MM/DD/YYYY). Before: "32 of 60 non-empty values do not
    parse as date", not why, nor that the 28 which did parse (01/02/2024) were read day-first
    and are wrong too."""
    rows = base_rows()
    first = rows["gp_contacts"][0]
    rows["gp_contacts"] = [
        {**first, "contact_date": f"{1 + i % 12:02d}/{1 + i % days:02d}/2024"} for i in range(60)
    ]
    source = write_extract(tmp_path / "ex", rows)
    rejects = _report_dir(source) / "rejects" / "gp_contacts.csv"
    message = errors.MONTH_FIRST_DATES.format(
        file=source / "gp_contacts.csv",
        column="contact_date",
        bad=bad,
        total=60,
        example="01/13/2024",
        rejects=rejects,
    )
    _stopped(source, store, message)


@pytest.mark.parametrize(
    "name", ["gp_contacts_2025-06.csv", "gp_contacts.csv.gz", "gp_contacts.xlsx"]
)
def test_a_table_file_under_another_name_is_named(tmp_path: Path, store: Path, name: str) -> None:
    """Before: "required table 'gp_contacts' not found", with its file in the folder."""
    source = write_extract(tmp_path / "ex")
    (source / "gp_contacts.csv").rename(source / name)
    message = errors.MISSING_TABLE_NEAR.format(source=source, table="gp_contacts", near=repr(name))
    _stopped(source, store, message)


def test_table_files_in_any_case_are_read_and_stray_files_named(tmp_path: Path) -> None:
    """A Windows export (GP_Contacts.CSV) stopped as a missing table; a stray copy
    ("spells (1).csv") was ignored without a word."""
    source = write_extract(tmp_path / "ex")
    (source / "gp_contacts.csv").rename(source / "GP_Contacts.CSV")
    (source / "spells (1).csv").write_text("spell_id\n", encoding="utf-8")
    (source / "README.txt").write_text("extract notes\n", encoding="utf-8")
    report = ingest(source, extract_date=EXTRACT_DATE, store_path=tmp_path / "s.duckdb",
                    settings=settings())  # fmt: skip
    assert report.tables["gp_contacts"].files == ["GP_Contacts.CSV"]
    assert report.tables["gp_contacts"].accepted == 3
    stray = [w for w in report.warnings if "file not read" in w]
    assert stray == [
        UNREAD_FILE.format(file=source / "spells (1).csv", table_names=", ".join(TABLES))
    ]


def test_a_file_cut_short_in_its_last_line_says_truncated(tmp_path: Path, store: Path) -> None:
    """A copy interrupted mid-line. Before: "Expected Number of Columns: 8 Found: 5 (the file
    does not split into the header's columns; fix the export, e.g. quoting)"."""
    source = write_extract(tmp_path / "ex")
    path = source / "spells.csv"
    path.write_bytes(path.read_bytes()[:-30])
    message = errors.TRUNCATED_FILE.format(
        file=path, line=3, problem="Expected Number of Columns: 8 Found: 5"
    )
    _stopped(source, store, message)
