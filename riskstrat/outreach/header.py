"""What a list's header says (pure): who is listed ("high" in numbers), who was left out and
why, what is not repeated, and any listed person without contact details. The same lines go in
the HTML header, the XLSX title rows and nowhere else (the CSV is for systems)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from riskstrat.outreach.columns import PHONE_MISSING
from riskstrat.outreach.config import OutreachConfig, Pathway
from riskstrat.outreach.engine import (
    BELOW_RULE,
    EARLIER_LIST,
    FEEDBACK_PREFIX,
    IN_HOSPITAL,
    LISTED_BEFORE,
    OPTED_OUT,
    OVER_CAPACITY,
    PLANNED_ONLY,
    Selection,
    run_places,
)
from riskstrat.outreach.listfiles import NOBODY_LISTED, Header
from riskstrat.registry.contract import FEEDBACK_HEADINGS, OUTCOME_LABELS
from riskstrat.registry.validate import UNREADABLE_RULES

REASON_TEXT = {
    OPTED_OUT: "national data opt-out",
    IN_HOSPITAL: "in hospital now",
    EARLIER_LIST: "on another list this run",
    BELOW_RULE: "below the list's rule",
    OVER_CAPACITY: "beyond this run's places",
    # Not "followed up after discharge instead": rows already on this run's post-discharge list
    # are counted as "on another list", so those left out here are on no list this run.
    PLANNED_ONLY: "risen only after a planned (elective) admission",
}
REASON_ORDER = (IN_HOSPITAL, FEEDBACK_PREFIX, LISTED_BEFORE, OPTED_OUT, EARLIER_LIST, PLANNED_ONLY,
                BELOW_RULE, OVER_CAPACITY)  # fmt: skip
CONFIDENTIAL = "Confidential: contains patient identifiers. For {practice} staff only."
#: (practice_code, pathway) -> reason -> count: a selection's left_out rows by list.
LeftOutCounts = Mapping[tuple[str, str], Mapping[str, int]]


def list_header(
    *,
    name: str,
    pathway: Pathway,
    practice_code: str,
    practice_name: str,
    as_of: date,
    weekly_capacity: int,
    n_listed: int,
    n_missing_contacts: int,
    selection: Selection | None,
    config: OutreachConfig | None,
    left_out: LeftOutCounts | None = None,
    n_missing_phone: int = 0,
) -> Header:
    """left_out: left_out_counts(selection), when the caller writes many lists of one selection
    (counted once, not filtered per list)."""
    return Header(
        rule=rule_text(
            pathway,
            selection=selection,
            weekly_capacity=weekly_capacity,
            as_of=as_of,
            places=list_places(
                name,
                pathway,
                selection=selection,
                config=config,
                practice_code=practice_code,
                weekly_capacity=weekly_capacity,
                as_of=as_of,
            ),
        ),
        left_out=left_out_text(
            name,
            pathway,
            selection=selection,
            practice_code=practice_code,
            config=config,
            n_listed=n_listed,
            counts=left_out,
        ),
        repeats=repeats_text(pathway, config=config),
        missing_contacts=missing_text(contacts=n_missing_contacts, phone=n_missing_phone),
        confidential=CONFIDENTIAL.format(practice=practice_name),
        data=data_text(selection.extract_date if selection else None),
        returned=returned_text(
            selection.feedback_rejects.get(practice_code, []) if selection else []
        ),
    )


#: What a list cannot know (the extract's date): a person who died, moved away or was admitted
#: after it is still listed. Before, nothing on the list said how old its data were.
DATA_TEXT = (
    "From the extract of {extract:%d/%m/%Y}: a death, move or hospital admission since then is "
    "not known to this list; check the clinical record before contacting anyone."
)


def data_text(extract: date | None) -> str:
    return DATA_TEXT.format(extract=extract) if extract else ""


def missing_text(*, contacts: int, phone: int) -> str:
    """How many listed people have no contact details, and how many have contacts but no phone
    number (shown as PHONE_MISSING: before, a blank Phone cell said nothing), in the
    extract; "" when none."""
    said = []
    if contacts:
        said.append(
            f"{contacts} listed {_people(contacts)} no contact details in the extract: shown as "
            "'contact details missing'; look them up in the clinical system."
        )
    if phone:
        said.append(
            f"{phone} listed {_people(phone)} no phone number in the extract: shown as "
            f"'{PHONE_MISSING}'; look {'it' if phone == 1 else 'them'} up in the clinical system."
        )
    return " ".join(said)


#: How many unusable returned rows a header names one by one (the rest are counted).
RETURNED_SHOWN = 8
#: After a sheet's unusable rows (not after whole files only: nothing of those was recorded).
ROWS_CLOSE = ". Correct them and return the sheet again; the rest of it was recorded."
#: What a rejected returned row's rule means, in the practice's words ({heading}, {value}).
RETURNED_RULES = {
    "allowed": "'{value}' is not one of the choices",
    "type": "'{value}' is not a date (type it as dd/mm/yyyy)",
    "four_digit_year": "'{value}' needs a four-digit year (dd/mm/yyyy)",
    "not_null": "is empty",
    "own_practice": "'{value}' is not registered at this practice",
    "patient_exists": "'{value}' is not a patient in this week's extract",
    "contacted_after_listed": "'{value}' is before the list date",
    "duplicate_key": "a second, different outcome for the same person and list",
    "no_control_characters": "holds characters that cannot be read",
    # told only for a date after today (a list newer than the extract waits, untold; checks.py)
    "not_after_extract": (
        "'{value}' is a date still to come (the list's date is printed at its top)"
    ),
}


def _file_problem(stored: object) -> str:
    """What a practice can do about a returned file that could not be read: the stored problem
    after its rule (e.g. "a .xls file cannot be read ...; save it as an Excel Workbook (.xlsx)"),
    not the rule's name ("(readable)", which the header said before, stop 28)."""
    _, ruled, problem = str(stored or "").partition(": rule ")
    problem = problem.partition(": ")[2] if ruled else ""
    if not problem:
        return "the file could not be read; nothing in it was used"
    if "nothing in it was used" in problem:
        return problem
    return f"the file could not be read ({problem}); nothing in it was used"


def returned_text(rejects: list[tuple]) -> str:
    """Which rows of the practice's returned sheets (or whole files) could not be used, named
    as the practice sees them (file, spreadsheet row, heading): "" when none."""
    if not rejects:
        return ""
    entries = _same_entries(rejects)
    said = []
    for names, row, column, value, rule in entries[:RETURNED_SHOWN]:
        name = names[0]
        if not row:  # the whole file
            said.append(f"{name}: {_file_problem(value)}")
            continue
        if len(names) > 1:  # the same sheet returned again: one slip, said once
            name += f" row {row} (the same in {', '.join(names[1:])})"
        else:
            name += f" row {row}"
        heading = FEEDBACK_HEADINGS.get(str(column), str(column).replace("_", " "))
        what = RETURNED_RULES.get(str(rule), "'{value}' breaks rule " + str(rule))
        if column == "contacted_on" and rule in UNREADABLE_RULES:  # the row was kept
            what += ", so the outcome was recorded without it"
        if column == "outcome" and rule == "not_null":
            what = "is empty although Contacted on is filled in"
        said.append(f"{name}, {heading}: " + what.format(value=value))
    more = len(entries) - RETURNED_SHOWN
    tail = f"; and {more} more" if more > 0 else ""
    n = len(entries)
    return (
        f"Not used from your returned sheets ({n} {'entry' if n == 1 else 'entries'}): "
        + "; ".join(said)
        + tail
        + (ROWS_CLOSE if any(entry[1] for entry in entries) else ".")
    )


def _same_entries(rejects: list[tuple]) -> list[tuple]:
    """(file names, row, column, value, rule) per slip: the same row, heading, value and rule
    in several returned files (a sheet returned twice, 'list (1).xlsx') is one entry naming
    every file, the shortest name first. Before, a nurse's sheet saved twice listed its three
    typos as 6 entries. Whole unreadable files stay one entry each."""
    merged: dict[tuple, list[str]] = {}
    for file, row, column, value, rule in rejects:
        name = str(file).rsplit("/", 1)[-1]
        key = (row, column, value, rule) if row else (file, row, column, value, rule)
        merged.setdefault(key, []).append(name)
    out = []
    for key, names in merged.items():
        row, column, value, rule = key[-4:]
        out.append((sorted(set(names), key=lambda n: (len(n), n)), row, column, value, rule))
    return out


def list_places(
    name: str,
    pathway: Pathway,
    *,
    selection: Selection | None,
    config: OutreachConfig | None,
    practice_code: str,
    weekly_capacity: int,
    as_of: date,
) -> int | None:
    """The list's main-list places this run: the selection's, else shared as select_lists
    shares them (config given), else None (the pathway's own floor)."""
    if selection is not None and (practice_code, name) in selection.places:
        return selection.places[(practice_code, name)]
    if config is None:
        return None
    return run_places(name, pathway, config=config, weekly_capacity=weekly_capacity, as_of=as_of)


def _people(n: int) -> str:
    return "person has" if n == 1 else "people have"


def _pct(value: float) -> str:
    return f"{value:.0%}" if round(value * 100, 6).is_integer() else f"{value:.1%}"


def rule_text(
    pathway: Pathway,
    *,
    selection: Selection | None,
    weekly_capacity: int,
    as_of: date,
    places: int | None = None,
) -> str:
    """Who is listed, in numbers: the threshold or rank rule and the population's average.
    places: the run's main-list places (the selection's; default the pathway's own floor)."""
    rule = pathway.select
    if places is None:
        places = pathway.per_run_capacity(weekly_capacity, as_of=as_of)
    parts = []
    if rule.min_rise_points is not None:
        since = (selection.compared_with.get(pathway.task) if selection else None) or None
        when = f" since {since:%d/%m/%Y}" if since else " since the last weekly score"
        parts.append(f"Listed: risk rose by {rule.min_rise_points:g} points or more{when}")
    elif rule.min_risk is not None and rule.top_k is not None:
        parts.append(
            f"Listed: risk of {_pct(rule.min_risk)} or more (high), or among this practice's "
            f"{rule.top_k} highest this run"
        )
    elif rule.min_risk is not None:
        parts.append(f"Listed: {order_text(pathway)}, from those at {_pct(rule.min_risk)} or more")
    else:
        parts.append(f"Listed: {order_text(pathway)}")
    if rule.min_rise_points is not None or rule.top_k is not None:
        parts[-1] += f"; {order_text(pathway)}"
    parts[-1] += f"; {places} {'place' if places == 1 else 'places'} this run"
    if pathway.reserve:
        parts[-1] += f" + up to {pathway.reserve} in reserve"
    if pathway.min_risk_beyond_capacity and rule.min_risk is not None:
        parts[-1] += f" (everyone at {_pct(rule.min_risk)} or more is listed, even beyond them)"
    population = selection.population.get(pathway.task) if selection else None
    if population:
        mean, n = population
        what = "discharges" if pathway.task.startswith("readmission") else "people"
        # n is the whole run's (every practice), not this practice's: say so, beside the
        # practice's own counts in the next line.
        parts.append(f"Average risk across the {n:,} {what} scored in all practices: {_pct(mean)}")
    return ". ".join(parts) + "."


#: How a list is ordered, in words (outreach/*.yaml `order_by`; "-" = descending).
ORDER_WORDS = {
    "-risk": "highest risk",
    "risk": "lowest risk",
    "-rise_points": "largest rise",
    "rise_points": "smallest rise",
    "contact_by": "earliest contact-by date",
    "-contact_by": "latest contact-by date",
    "index_date": "earliest discharge",
    "-index_date": "latest discharge",
    "-previous_risk": "highest risk last week",
    "previous_risk": "lowest risk last week",
}


def order_text(pathway: Pathway) -> str:
    """'highest risk first', 'earliest contact-by date first, then highest risk': the order the
    rows are in (a post-discharge list put 26% above 52% with no word why: the contact-by
    date comes first)."""
    words = [ORDER_WORDS[k] for k in pathway.order_by if k in ORDER_WORDS] or ["highest risk"]
    return words[0] + " first" + "".join(f", then {w}" for w in words[1:])


def left_out_text(
    name: str,
    pathway: Pathway,
    *,
    selection: Selection | None,
    practice_code: str,
    config: OutreachConfig | None,
    n_listed: int,
    counts: LeftOutCounts | None = None,
) -> str:
    if selection is None:
        return ""
    by_list = left_out_counts(selection) if counts is None else counts
    counts = by_list.get((practice_code, name), {})
    ordered = sorted(counts, key=_reason_rank)
    said = [f"{counts[r]:,} {reason_text(r, pathway=pathway, config=config)}" for r in ordered]
    reviewed = selection.reviewed.get((practice_code, name), 0)
    if pathway.task.startswith("readmission"):
        if not reviewed:  # the empty list says it, once (NO_DISCHARGES)
            return ""
        noun = "discharge" if reviewed == 1 else "discharges"
        head = f"{reviewed:,} {noun} reviewed: {n_listed} listed"
        if not said:  # was "1 discharges reviewed: 1 listed, 0 not."
            return head + "."
        return head + f", {sum(counts.values()):,} not: " + "; ".join(said) + "."
    if not said:
        return "Nobody who meets the rule was left out."
    return "Left out although they meet the rule: " + "; ".join(said) + "."


NOBODY = NOBODY_LISTED
#: An empty discharge list with no discharge to review. Before, the header said "0 discharges
#: reviewed: 0 listed." above "Nobody meets this list's criteria this time." (every practice's
#: post-discharge list on a day after the extract's last discharges).
#: It says what the data hold, not that nobody was discharged: a discharge the extract does not
#: hold yet (one the day before the list, after the extract was taken) is unknown to the list.
NO_DISCHARGES = (
    "No discharges to follow up: the hospital data received hold no discharge of anyone "
    "registered at the practice since the last post-discharge list."
)


def empty_text(
    name: str,
    *,
    selection: Selection | None,
    practice_code: str,
    counts: LeftOutCounts | None,
    places: int | None = None,
    pathway: Pathway | None = None,
) -> str:
    """What an empty list says instead of rows: true when people met the rule but were left
    out (before, "Nobody meets this list's criteria" stood under "10 beyond this run's
    places"); NO_DISCHARGES for a discharge list (`pathway`) that had none to review."""
    if selection is None:
        return NOBODY
    if (
        pathway is not None
        and pathway.task.startswith("readmission")
        and not selection.reviewed.get((practice_code, name), 0)
    ):
        return NO_DISCHARGES
    by_list = left_out_counts(selection) if counts is None else counts
    gone = by_list.get((practice_code, name), {})
    met = sum(n for r, n in gone.items() if r != BELOW_RULE)
    if not met:
        return NOBODY
    people = f"{met:,} {'person meets' if met == 1 else 'people meet'} this list's rule"
    if places is None:
        places = selection.places.get((practice_code, name))
    if gone.get(OVER_CAPACITY) and not places:
        return f"Nobody listed: this list has no places this run; {people} (left out above)."
    if met == 1:
        return f"Nobody listed: {people} but is left out for the reason above."
    return f"Nobody listed: {people} but each is left out for a reason above."


def left_out_counts(selection: Selection) -> dict[tuple[str, str], dict[str, int]]:
    """selection.left_out by list: (practice_code, pathway) -> reason -> count, in row order."""
    rows = selection.left_out
    out: dict[tuple[str, str], dict[str, int]] = {}
    for code, name, reason, n in zip(
        rows["practice_code"].to_numpy(), rows["pathway"].to_numpy(),
        rows["reason"].to_numpy(), rows["count"].to_numpy(), strict=True,
    ):  # fmt: skip
        out.setdefault((str(code), str(name)), {})[str(reason)] = int(n)
    return out


def _reason_rank(reason: str) -> int:
    for i, prefix in enumerate(REASON_ORDER):
        if reason.startswith(prefix):
            return i
    return len(REASON_ORDER)


def reason_text(reason: str, *, pathway: Pathway, config: OutreachConfig | None) -> str:
    if reason.startswith(FEEDBACK_PREFIX):
        outcome = reason.removeprefix(FEEDBACK_PREFIX)
        label = OUTCOME_LABELS.get(outcome, outcome)
        return f"returned as '{label}' recently (practice feedback)"
    if reason == LISTED_BEFORE:
        if pathway.cadence == "weekdays":
            return "already listed for this discharge"
        weeks = config.relist.weeks if config else 4
        return f"on a list in the last {weeks} weeks"
    return REASON_TEXT.get(reason, reason)


def repeats_text(pathway: Pathway, *, config: OutreachConfig | None) -> str:
    if config is None:
        return ""
    rule = config.relist
    again = ", ".join(f"'{OUTCOME_LABELS[o]}'" for o in rule.discharge_again_after)
    back = f" (again only if the practice returned {again})" if again else ""
    if pathway.cadence == "weekdays":
        return f"Not repeated: each discharge is followed up once{back}."
    again_text = f", or the practice returned {again}" if again else ""
    event = ", they had a new emergency admission, discharge or A&E visit" if rule.new_event else ""
    # Only a main listing counts (engine._listed_before): a reserve name may be back, and its
    # Notes say "(reserve)"; "anyone on a weekly list" contradicted those Notes.
    return (
        f"Not repeated: anyone on a weekly list (not its reserve) in the last {rule.weeks} weeks "
        f"is left out unless their risk rose by {rule.rise_points:g} points or more{event}"
        f"{again_text}."
    )
