"""Hostile and careless extracts (issue 12): path-like practice codes, lines DuckDB would drop,
empty and stale tables, contacts that do not cover the patients, extract dates in the future and
their recovery, and the raw parser errors that now have documented messages."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from registry_extracts import EXTRACT_DATE, base_rows, lenient, read_csv_rows, settings
from registry_extracts import write_extract as write

from riskstrat.cli import main
from riskstrat.registry import errors
from riskstrat.registry.checks import CONTACTS_GAP, STALE_TABLE
from riskstrat.registry.ingest import ingest
from riskstrat.registry.store import REPLACED_EXTRACTS, connect, extract_history

TRAVERSAL = ("../../../../PWNED_REL", "/tmp/PWNED_ABS", "..", "P1/../../x", "p 1")


def _practice(code: str) -> dict[str, str]:
    return {"practice_code": code, "practice_name": "Evil", "pcn_code": "N1",
            "pcn_name": "North PCN", "weekly_capacity": "5"}  # fmt: skip


@pytest.mark.parametrize("code", TRAVERSAL)
def test_path_like_practice_codes_are_rejected_with_a_reason(tmp_path: Path, code: str) -> None:
    """Item 1 (ingest wall): the code only had to match \\S+ and became a folder name."""
    rows = base_rows()
    rows["practices"].append(_practice(code))
    rows["patients"].append({**rows["patients"][0], "patient_id": "evil1", "practice_code": code})
    rows["contacts"].append({**rows["contacts"][0], "patient_id": "evil1"})
    source = write(tmp_path / "ex", rows)
    report = ingest(source, extract_date=EXTRACT_DATE, store_path=tmp_path / "s.duckdb",
                    settings=lenient())  # fmt: skip
    assert read_csv_rows(report.rejects_dir / "practices.csv") == [
        {"file": "practices.csv", "row": "3", "column": "practice_code", "value": code,
         "rule": "pattern"}
    ]  # fmt: skip
    patients = read_csv_rows(report.rejects_dir / "patients.csv")
    assert [(r["row"], r["rule"]) for r in patients] == [("5", "practice_known")]
    with connect(tmp_path / "s.duckdb") as con:
        codes = con.execute("SELECT practice_code FROM practices ORDER BY 1").fetchall()
    assert codes == [("P1",), ("P2",)]


def test_practice_code_pattern_is_configurable_but_never_unsafe() -> None:
    from pydantic import ValidationError

    from riskstrat.config import IngestConfig

    assert IngestConfig(practice_code_pattern="[A-Z][0-9]{5}").practice_code_pattern
    for unsafe in (r"\S+", ".*", "[A-Z./]+", "[^ ]+"):
        with pytest.raises(ValidationError, match="not a safe folder name"):
            IngestConfig(practice_code_pattern=unsafe)


def test_strict_ods_pattern_rejects_short_codes(tmp_path: Path) -> None:
    source = write(tmp_path / "ex")
    with pytest.raises(errors.IngestError, match="rule pattern"):
        ingest(source, extract_date=EXTRACT_DATE, store_path=tmp_path / "s.duckdb",
               settings=settings(practice_code_pattern="[A-Z][0-9]{5}"))  # fmt: skip


def _contacts_with(tmp_path: Path, middle: str, *, end: str = "\n") -> Path:
    source = write(tmp_path / "ex", skip=("contacts",))
    lines = ["patient_id,nhs_number,given_name,family_name,phone,address"]
    lines += [f"p{i},94000000{i:02d},Ann,Smith,0100 000000,1 High St" for i in (1, 2)]
    lines += [middle, "p4,9400000004,Ann,Smith,0100 000000,1 High St"]
    (source / "contacts.csv").write_bytes((end.join(lines) + end).encode("utf-8"))
    return source


def test_a_40_mb_line_stops_the_ingest_naming_file_and_line(tmp_path: Path) -> None:
    """Item 4: DuckDB drops a ~32 MB+ line silently ("0 rejected")."""
    source = _contacts_with(tmp_path, "p3,9400000003,Ann,Smith,0100 000000," + "x" * 40_000_000)
    store = tmp_path / "s.duckdb"
    with pytest.raises(errors.IngestError) as caught:
        ingest(source, extract_date=EXTRACT_DATE, store_path=store, settings=settings())
    assert str(caught.value) == errors.LINE_TOO_LONG.format(
        file=source / "contacts.csv", line=4, size=40_000_036, limit=2_000_000
    )
    assert not store.exists()


def test_a_malformed_line_stops_the_ingest_naming_file_and_line(tmp_path: Path) -> None:
    rows = base_rows()
    source = write(tmp_path / "ex", rows)
    text = (source / "gp_contacts.csv").read_text(encoding="utf-8").splitlines()
    text.insert(2, "junk")
    (source / "gp_contacts.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(errors.IngestError, match=r"gp_contacts.csv: line 3: rule readable"):
        ingest(source, extract_date=EXTRACT_DATE, store_path=tmp_path / "s.duckdb",
               settings=settings())  # fmt: skip


def test_every_line_is_accounted_for(tmp_path: Path) -> None:
    """lines in file == rows read (+ blank feedback rows) == accepted + rejected + duplicates,
    with CRLF, blank lines, a quoted line break and a bad row in the mix."""
    source = _contacts_with(
        tmp_path, '\r\np3,9400000003,"Ann\nMarie",Smith,,"1 High St\r\n\r\nTown"', end="\r\n"
    )
    rows = base_rows()
    rows["gp_contacts"][0]["mode"] = "carrier pigeon"
    write(source, {"gp_contacts": rows["gp_contacts"]})
    report = ingest(source, extract_date=EXTRACT_DATE, store_path=tmp_path / "s.duckdb",
                    settings=lenient())  # fmt: skip
    contacts, gp = report.tables["contacts"], report.tables["gp_contacts"]
    assert (contacts.lines_read, contacts.rows_read, contacts.accepted) == (4, 4, 4)
    assert (gp.lines_read, gp.accepted, gp.rejected) == (3, 2, 1)
    for t in report.tables.values():
        assert t.lines_read == t.rows_read + t.skipped_blank_feedback
        assert t.rows_read == t.accepted + t.rejected + t.duplicates
    with connect(tmp_path / "s.duckdb") as con:
        got = con.execute("SELECT given_name FROM contacts WHERE patient_id = 'p3'").fetchall()
    assert got == [("Ann\nMarie",)]


def test_header_only_required_tables_stop_the_ingest(tmp_path: Path) -> None:
    """Items 3 and 6: a header-only spells.csv or contacts.csv was accepted with 0 rows."""
    for table in ("spells", "contacts"):
        rows = base_rows()
        rows[table] = []
        source = write(tmp_path / table, rows)
        with pytest.raises(errors.IngestError) as caught:
            ingest(source, extract_date=EXTRACT_DATE, store_path=tmp_path / "s.duckdb",
                   settings=settings())  # fmt: skip
        assert str(caught.value) == errors.EMPTY_TABLE.format(
            file=source / f"{table}.csv", table=table, rows=0
        )
        assert not (tmp_path / "s.duckdb").exists()


def test_empty_optional_table_is_fine(tmp_path: Path) -> None:
    rows = base_rows()
    rows["observations"] = []
    rows["outreach_outcomes"] = []
    report = ingest(write(tmp_path / "ex", rows), extract_date=EXTRACT_DATE,
                    store_path=tmp_path / "s.duckdb", settings=settings())  # fmt: skip
    assert report.tables["observations"].accepted == 0


def test_contacts_must_cover_the_current_patients(tmp_path: Path) -> None:
    """Item 3 (ingest side): contacts rows missing for listable patients."""
    rows = base_rows()
    rows["contacts"] = [r for r in rows["contacts"] if r["patient_id"] != "p2"]
    source = write(tmp_path / "ex", rows)
    with pytest.raises(errors.IngestError) as caught:
        ingest(source, extract_date=EXTRACT_DATE, store_path=tmp_path / "s.duckdb",
               settings=settings())  # fmt: skip
    assert str(caught.value).startswith(
        f"{source / 'contacts.csv'}: table 'contacts': rule contacts_cover_patients: 1 of 3 "
        "current patients (33.3%) have no accepted contacts row"
    )
    report = ingest(source, extract_date=EXTRACT_DATE, store_path=tmp_path / "s.duckdb",
                    settings=settings(contacts_missing_share=0.5))  # fmt: skip
    assert CONTACTS_GAP.format(missing=1, patients=3, limit=0.5) in report.warnings


def test_stale_event_tables_warn_in_summary_and_report(tmp_path: Path) -> None:
    """Item 6: spells and A&E ending months before the extract passed with no check."""
    rows = base_rows()
    rows["gp_contacts"][0]["contact_date"] = "2025-06-25"
    source = write(tmp_path / "ex", rows)
    report = ingest(source, extract_date=EXTRACT_DATE, store_path=tmp_path / "s.duckdb",
                    settings=settings())  # fmt: skip
    stale = STALE_TABLE.format(table="spells", latest=dt.date(2024, 2, 3), days=513,
                               extract_date=EXTRACT_DATE, limit=35)  # fmt: skip
    assert stale in report.warnings
    assert report.freshness["spells"] == {
        "latest_event": "2024-02-03", "days_before_extract": 513, "limit_days": 35, "fresh": False
    }  # fmt: skip
    assert report.freshness["gp_contacts"]["fresh"] is True
    assert not any(w.startswith("gp_contacts: rule fresh") for w in report.warnings)
    summary = json.loads(report.summary_path.read_text(encoding="utf-8"))
    assert summary["freshness"] == report.freshness
    assert "| spells | 2024-02-03 | 513 | 35 | **no** |" in (
        report.report_dir / "summary.md"
    ).read_text(encoding="utf-8")


def test_extract_date_after_today_is_refused(tmp_path: Path) -> None:
    """Item 7: --extract-date 2099-01-01 was accepted and locked out every later extract."""
    source = write(tmp_path / "ex")
    with pytest.raises(errors.IngestError) as caught:
        ingest(source, extract_date="2099-01-01", store_path=tmp_path / "s.duckdb",
               settings=settings())  # fmt: skip
    assert str(caught.value) == errors.EXTRACT_IN_FUTURE.format(
        source=source, extract_date="2099-01-01", today=dt.date.today(), days=1
    )
    today = dt.date(2025, 6, 29)  # the tolerance: one day ahead of the wall clock is fine
    ingest(source, extract_date=EXTRACT_DATE, store_path=tmp_path / "s.duckdb",
           settings=settings(), today=today)  # fmt: skip


def test_a_wrong_newest_extract_is_recoverable(tmp_path: Path) -> None:
    """Item 7: a typo'd extract date (within the tolerance) is replaced with --replace-latest."""
    store = tmp_path / "s.duckdb"
    ingest(write(tmp_path / "one"), extract_date=EXTRACT_DATE, store_path=store,
           settings=settings())  # fmt: skip
    typo = dt.date(2025, 7, 30)  # meant 2025-07-03
    rows = base_rows()
    rows["gp_contacts"][0]["contact_date"] = "2025-07-01"
    second = write(tmp_path / "two", rows)
    ingest(second, extract_date=typo, store_path=store, settings=settings())
    right = dt.date(2025, 7, 3)
    with pytest.raises(errors.IngestError, match="--replace-latest"):
        ingest(second, extract_date=right, store_path=store, settings=settings())
    runner = CliRunner()
    args = ["ingest", str(second), "--extract-date", str(right), "--store", str(store)]
    result = runner.invoke(main, [*args, "--replace-latest"])
    assert result.exit_code == 0, result.output
    assert "replacing extract 2025-07-30" in result.output
    assert [h["extract_date"] for h in extract_history(store)] == [right, EXTRACT_DATE]
    with connect(store) as con:
        replaced = con.execute(f"SELECT extract_date FROM {REPLACED_EXTRACTS}").fetchall()
        gp = con.execute("SELECT max(contact_date) FROM gp_contacts").fetchall()
    assert replaced == [(typo,)] and gp == [(dt.date(2025, 7, 1),)]
    # a later normal ingest works again and keeps the replaced row
    ingest(second, extract_date=dt.date(2025, 7, 10), store_path=store, settings=settings())
    with connect(store) as con:
        assert con.execute(f"SELECT count(*) FROM {REPLACED_EXTRACTS}").fetchall() == [(1,)]
    # only the newest extract can be replaced
    with pytest.raises(errors.IngestError) as caught:
        ingest(second, extract_date=dt.date(2025, 6, 1), store_path=store, settings=settings(),
               replace_latest=True)  # fmt: skip
    assert str(caught.value) == errors.REPLACE_TOO_OLD.format(
        source=second, extract_date=dt.date(2025, 6, 1), previous=right
    )


def test_replace_latest_on_an_empty_store(tmp_path: Path) -> None:
    with pytest.raises(errors.IngestError) as caught:
        ingest(write(tmp_path / "ex"), extract_date=EXTRACT_DATE, settings=settings(),
               store_path=tmp_path / "s.duckdb", replace_latest=True)  # fmt: skip
    assert str(caught.value) == errors.NOTHING_TO_REPLACE.format(store=tmp_path / "s.duckdb")


def test_quote_in_the_store_path(tmp_path: Path) -> None:
    """Item 9: `SET temp_directory = '...'` was built without escaping."""
    folder = tmp_path / "o'brien's data"
    report = ingest(write(tmp_path / "ex"), extract_date=EXTRACT_DATE,
                    store_path=folder / "s.duckdb", settings=settings())  # fmt: skip
    assert report.status == "ingested"
    assert extract_history(folder / "s.duckdb")[0]["extract_date"] == EXTRACT_DATE


def test_trailing_comma_and_duplicate_header_columns(tmp_path: Path) -> None:
    """Item 9: raw DuckDB binder errors instead of the documented messages."""
    source = write(tmp_path / "ex")
    path = source / "practices.csv"
    text = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([text[0] + ","] + [t + "," for t in text[1:]]) + "\n")
    with pytest.raises(errors.IngestError) as caught:
        ingest(source, extract_date=EXTRACT_DATE, store_path=tmp_path / "s.duckdb",
               settings=settings())  # fmt: skip
    assert str(caught.value) == errors.EMPTY_HEADER.format(file=path, position=6)
    path.write_text("\n".join([text[0] + ",Practice_Name"] + [t + ",x" for t in text[1:]]))
    with pytest.raises(errors.IngestError) as caught:
        ingest(source, extract_date=EXTRACT_DATE, store_path=tmp_path / "s.duckdb",
               settings=settings())  # fmt: skip
    assert str(caught.value) == errors.DUPLICATE_COLUMN.format(file=path, column="practice_name")


def test_nul_and_control_characters_in_names_are_rejected(tmp_path: Path) -> None:
    rows = base_rows()
    rows["contacts"][1]["given_name"] = "Bo\x00b"
    rows["contacts"][2]["family_name"] = "Ng\x1b[31m"
    rows["contacts"][3]["address"] = "1 High St\nTown\tNorth"  # line feed and tab are fine
    source = write(tmp_path / "ex", rows)
    report = ingest(source, extract_date=EXTRACT_DATE, store_path=tmp_path / "s.duckdb",
                    settings=lenient())  # fmt: skip
    assert read_csv_rows(report.rejects_dir / "contacts.csv") == [
        {"file": "contacts.csv", "row": "2", "column": "given_name", "value": "***",
         "rule": "no_control_characters"},
        {"file": "contacts.csv", "row": "3", "column": "family_name", "value": "***",
         "rule": "no_control_characters"},
    ]  # fmt: skip
    assert report.tables["contacts"].accepted == 2


def test_freshness_settings_name_real_event_tables(tmp_path: Path) -> None:
    from riskstrat.registry.checks import UNKNOWN_FRESHNESS_TABLE

    report = ingest(write(tmp_path / "ex"), extract_date=EXTRACT_DATE,
                    store_path=tmp_path / "s.duckdb",
                    settings=settings(freshness_days={"spels": 30, "practices": 1}))  # fmt: skip
    assert UNKNOWN_FRESHNESS_TABLE.format(table="spels") in report.warnings
    assert UNKNOWN_FRESHNESS_TABLE.format(table="practices") in report.warnings
    assert report.freshness == {}


def test_cli_ingest_with_an_empty_settings_file_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from riskstrat.config import CONFIG_EMPTY

    home = tmp_path / "home"
    (home / "configs").mkdir(parents=True)
    (home / "configs" / "riskstrat.yaml").write_text("# nothing yet\n")
    monkeypatch.setenv("RISKSTRAT_HOME", str(home))
    args = ["ingest", str(write(tmp_path / "ex")), "--extract-date", str(EXTRACT_DATE)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    expected = CONFIG_EMPTY.format(file=home / "configs" / "riskstrat.yaml")
    assert result.output == f"Error: {expected}\n"
