"""The printable HTML renders in headless Chromium: no console errors, A4 landscape pages, a
screenshot, escaping of hostile values, no external assets."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from outreach_frames import EVIL

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)  # fmt: skip
A4_LANDSCAPE_POINTS = (841.92, 595.28)

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium not installed")


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def test_html_renders_without_console_errors_and_screenshots(written, tmp_path):
    page = written["run"] / "practices" / "P1" / "early_intervention.html"
    shot = tmp_path / "list.png"
    run = _chromium(
        tmp_path, "--enable-logging=stderr", "--v=0", "--window-size=1400,1000",
        f"--screenshot={shot}", page.as_uri(),
    )  # fmt: skip
    console = [line for line in run.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == []
    assert shot.is_file() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000  # a rendered table, not a blank page


def test_html_dom_escapes_values_and_prints_a4_landscape(written, tmp_path):
    page = written["run"] / "practices" / "P1" / "early_intervention.html"
    html = page.read_text(encoding="utf-8")
    assert not re.search(r"<(script|link|img)\b|https?://(?!evil)", html)  # self-contained
    assert re.search(r"@page \{\s*size: A4 landscape;", html)
    dom = _chromium(tmp_path, "--dump-dom", page.as_uri()).stdout
    lists = written["lists"]
    own = lists[(lists["practice_code"] == "P1") & (lists["pathway"] == "early_intervention")]
    body_rows = re.findall(r'<tr class="(main|reserve)">', dom)
    assert len(body_rows) == len(own)
    # The hostile name is escaped in the source and shown as text, never as markup.
    assert "=HYPERLINK(&#34;http://evil.example&#34;,&#34;x&#34;)" in html
    assert '=HYPERLINK("http://evil.example","x")' in dom and "<a " not in dom
    assert EVIL["family_name"] in dom
    pdf = tmp_path / "list.pdf"
    _chromium(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri())
    boxes = re.findall(rb"MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf.read_bytes())
    assert boxes
    for width, height in boxes:
        assert float(width) == pytest.approx(A4_LANDSCAPE_POINTS[0], abs=1)
        assert float(height) == pytest.approx(A4_LANDSCAPE_POINTS[1], abs=1)


def test_empty_list_page_says_so(written, tmp_path):
    lists = written["lists"]
    empty = next(
        (code, name)
        for code in ("P1", "P2", "P3")
        for name in written["pathways"]
        if lists[(lists["practice_code"] == code) & (lists["pathway"] == name)].empty
    )
    page = written["run"] / "practices" / empty[0] / f"{empty[1]}.html"
    dom = _chromium(tmp_path, "--dump-dom", page.as_uri()).stdout
    assert "Nobody meets this list's criteria this time." in dom


PDFTOTEXT = shutil.which("pdftotext")


@pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext (poppler-utils) not installed")
def test_printed_long_list_repeats_practice_list_date_and_page_numbers(tmp_path):
    """A list of 120 people printed to PDF by Chromium: page 2 (and the last page) carry the
    practice, list, date, confidentiality line, "Page N of M" and the heading row."""
    from datetime import date

    from riskstrat.outreach.columns import columns_for
    from riskstrat.outreach.header import Header
    from riskstrat.outreach.html import render_html

    rows = [
        {"section": "main", "rank": i + 1, "name": f"Person {i}", "nhs_number": "9434765919",
         "date_of_birth": date(1940, 1, 2), "age": 85, "phone": "01632 960000",
         "address": "1 Test Street, Testtown", "risk": 0.3, "reason_1": "Heart failure",
         "modifiable_1": True, "actions": "Heart failure review", "action_why": "weights",
         "patient_id": f"id{i:05d}"}
        for i in range(120)
    ]  # fmt: skip
    header = Header(
        rule="Listed: risk of 10% or more.",
        left_out="",
        repeats="",
        missing_contacts="",
        confidential="Confidential: for Practice Q1 staff only.",
    )
    html = render_html(
        rows, columns_for("early_intervention"),
        context={"title": "Early intervention", "purpose": "p", "outcome_text": "o",
                 "practice_name": 'Q1 "Surgery" <b>', "practice_code": "Q1",
                 "listed_on": "Monday 29 December 2025", "listed_short": "29/12/2025",
                 "model": "m", "header": header},
    )  # fmt: skip
    page = tmp_path / "long.html"
    page.write_text(html, encoding="utf-8")
    pdf = tmp_path / "long.pdf"
    _chromium(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri())
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    pages = int(re.search(r"Pages:\s+(\d+)", info.stdout).group(1))
    assert pages >= 3
    for n in (2, pages):
        text = subprocess.run(
            [PDFTOTEXT, "-f", str(n), "-l", str(n), "-layout", str(pdf), "-"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        assert 'Q1 "Surgery" <b> (Q1)' in text and "Early intervention" in text, text[:400]
        assert "29/12/2025" in text
        assert "Confidential: for Practice Q1 staff only." in text
        assert f"Page {n} of {pages}" in text
        assert "NHS number" in text and "943 476 5919" in text  # heading row repeated


def test_each_reason_and_action_is_its_own_bullet(written, tmp_path):
    """A reason that wraps onto a second line must still read as one reason: each is a list
    item of its cell (a bullet, hanging), not a bare line beside the next."""
    page = written["run"] / "practices" / "P1" / "early_intervention.html"
    dom = _chromium(tmp_path, "--dump-dom", page.as_uri()).stdout
    lists = written["lists"]
    own = lists[(lists["practice_code"] == "P1") & (lists["pathway"] == "early_intervention")]
    cells = re.findall(r'<td class="reasons"><ul>(.*?)</ul></td>', dom)
    assert len(cells) == len(own)
    reasons = own[["reason_1", "reason_2", "reason_3"]].notna().sum(axis=1).sort_values()
    assert sorted(c.count("<li>") for c in cells) == reasons.tolist()
    actions = re.findall(r'<td class="actions"><ul>(.*?)</ul></td>', dom)
    counts = own["actions"].fillna("").map(lambda a: len([x for x in a.split("; ") if x]))
    assert sorted(c.count("<li") for c in actions) == sorted(counts.tolist())


@pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext (poppler-utils) not installed")
def test_every_printed_reserve_row_says_reserve(tmp_path):
    """The demo's early-intervention list of Z00004 printed on 4 pages: its "Reserve (if someone
    above cannot be reached)" line was on page 3, and page 4's three reserve rows (greyed only)
    read as more people to call. Each reserve row now says "(reserve)" under its name."""
    from datetime import date

    from riskstrat.outreach.columns import columns_for
    from riskstrat.outreach.header import Header
    from riskstrat.outreach.html import render_html

    rows = [
        {"section": "main" if i < 30 else "reserve", "rank": i + 1, "name": f"Person {i}",
         "nhs_number": "9434765919", "date_of_birth": date(1940, 1, 2), "age": 85,
         "phone": "01632 960000", "address": "1 Test Street, Testtown", "risk": 0.3,
         "reason_1": "Heart failure", "actions": "Heart failure review", "action_why": "w",
         "patient_id": f"id{i:05d}"}
        for i in range(90)
    ]  # fmt: skip
    header = Header(rule="r", left_out="", repeats="", missing_contacts="", confidential="c")
    html = render_html(
        rows, columns_for("early_intervention"),
        context={"title": "Early intervention", "purpose": "p", "outcome_text": "o",
                 "practice_name": "Q1", "practice_code": "Q1", "listed_on": "Monday",
                 "listed_short": "29/12/2025", "model": "m", "header": header},
    )  # fmt: skip
    page = tmp_path / "reserve.html"
    page.write_text(html, encoding="utf-8")
    pdf = tmp_path / "reserve.pdf"
    _chromium(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri())
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    pages = int(re.search(r"Pages:\s+(\d+)", info.stdout).group(1))
    text = subprocess.run(
        [PDFTOTEXT, "-f", str(pages), "-l", str(pages), "-layout", str(pdf), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "Reserve (if someone above" not in text  # the last page starts below that line
    names = re.findall(r"Person \d+", text)
    assert names and text.count("(reserve)") >= len(names)


@pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext (poppler-utils) not installed")
def test_a_word_too_long_for_the_page_does_not_push_columns_off_it(tmp_path):
    """Names a practice really has (apostrophes, accents, hyphens, an 80-character hyphenated
    name, a 58-letter Welsh place name) print whole with every column on the page. A name of
    one 160-letter word (a data fault) widened the table past the A4 page: the printed
    Suggested actions, Outcome, Notes and Patient ID were cut off on every row of the page.
    Such a word now breaks inside its cell; real words do not."""
    from datetime import date

    from riskstrat.outreach.columns import columns_for
    from riskstrat.outreach.header import Header
    from riskstrat.outreach.html import LONG_WORD, render_html

    welsh = "Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch"
    names = ["Siobhán O'Connor-Ní Bhriain", "Nguyễn Thị Hương", "Łukasz Żółć",
             "Anne-Marie Featherstonehaugh-Cholmondeley-Marjoribanks-Wriothesley-Montagu-Scott",
             "Wolfeschlegelsteinhausenbergerdorff" * 4 + " Smith"]  # fmt: skip
    rows = [
        {"section": "main", "rank": i + 1, "name": name, "nhs_number": "9434765919",
         "date_of_birth": date(1940, 1, 2), "age": 85, "phone": "01632 960000",
         "address": f"Ty'n-y-Coed, 1 Heol-y-Ffynnon, {welsh}", "risk": 0.3,
         "reason_1": "Heart failure", "actions": "Heart failure review", "action_why": "w",
         "patient_id": f"P{i:08d}"}
        for i, name in enumerate(names)
    ]  # fmt: skip
    header = Header(rule="r", left_out="", repeats="", missing_contacts="",
                    confidential="Confidential: for St John's Surgery staff only.")  # fmt: skip
    html = render_html(
        rows, columns_for("early_intervention"),
        context={"title": "Early intervention", "purpose": "p", "outcome_text": "o",
                 "practice_name": "St John's Surgery", "practice_code": "Q1",
                 "listed_on": "Monday 29 December 2025", "listed_short": "29/12/2025",
                 "model": "m", "header": header},
    )  # fmt: skip
    assert html.count(f'class="{LONG_WORD}"') == 1  # the 160-letter name only
    page = tmp_path / "names.html"
    page.write_text(html, encoding="utf-8")
    pdf = tmp_path / "names.pdf"
    _chromium(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri())
    text = subprocess.run(
        [PDFTOTEXT, "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    for i in range(len(names)):
        assert f"P{i:08d}" in text  # the last column is on the page, every row
    assert "Outcome" in text and "Notes" in text
    for name in names[:4]:  # whole, though it may wrap at a space or hyphen
        assert all(part in text for part in re.split(r"[ -]", name)), name
    assert welsh in text  # whole: real words are not broken
