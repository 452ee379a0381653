"""Validation as DuckDB SQL: the contract's rules turned into queries, no Python row loops.

Per table:

1. `check_sql`, one pass over the whole table: parse every column from text (or take a Parquet
   column that already has the type); column rules (not_null, type, allowed, pattern, range) and
   row rules; then, for rows that passed, the cross-table rules against the practices and
   patients already accepted. `_viol` is NULL for a good row, else its list of violations
   `{column, value, rule}` (the violation lists are only built for bad rows, which keeps the pass
   cheap). `_h` is a hash of the parsed row.
   Implausible *later* dates (`LATER_DATES`: a column that is not the row's defining event) do
   not reject the row: the value is repaired (nulled, or clipped to the extract date) and
   `_fix` lists `{column, value, rule}` with the original value, so the facts dated earlier
   (a diagnosis, an admission, a registration) are kept. Only rows with `_viol` NULL are fixed.
2. `duplicates_sql`, among good rows: exact copies (`duplicate_row`, the first kept) and different
   rows with the key of an earlier row (`duplicate_key`, the first in file order kept). Only rows
   whose hash or key occurs more than once are compared, exactly, so the pass stays small.

The builders are pure (table + parameters -> SQL text); `riskstrat.registry.ingest` runs them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from riskstrat.registry.contract import COLUMN_WARNINGS, ROW_RULES, Column, Table

#: Date formats tried in order: ISO first, then the UK day-first form (never month-first).
DATE_FORMATS = (
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%d/%m/%Y %H:%M:%S",
)
TIMESTAMP_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%Y-%m-%d",
    "%d/%m/%Y",
)
TRUE_TEXT = ("true", "t", "1", "1.0", "y", "yes")
FALSE_TEXT = ("false", "f", "0", "0.0", "n", "no")
#: Stored (Parquet) types taken as they are for each contract dtype; others are parsed as text.
NATIVE_TYPES: dict[str, tuple[str, ...]] = {
    "int": ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"),
    "float": ("FLOAT", "DOUBLE", "TINYINT", "SMALLINT", "INTEGER", "BIGINT"),
    "bool": ("BOOLEAN",),
    "date": ("DATE", "TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S"),
    "timestamp": ("TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "DATE"),
    "str": (),  # text is always trimmed, empty -> NULL
}
DUP_ROW = "duplicate_row"
DUP_KEY = "duplicate_key"
NULLED = "nulled"
CLIPPED = "clipped_to_extract_date"
#: Per table, the dated columns that record something LATER than the row's defining event (the
#: diagnosis, the admission, the birth and registration, the listing), and what an implausible
#: value of one becomes. Such a value breaks `late_checks` (not_after_extract, not_after_death: a
#: typo or a feed error), but the row's earlier fact is still true, so the value is repaired
#: instead of the row being dropped (and the repair reported, `repairs_sql`):
#: - conditions.resolved_on, spells.discharge_date, outreach_outcomes.contacted_on: nulled.
#:   Null is what the contract calls "still active / still in hospital / not contacted", and the
#:   feature SQL already reads a date on or after the index date as null (unknown at index), so
#:   features at every as-of date up to the extract date are the same as with the bad value.
#:   (Clipping a discharge to the extract date would invent a discharge, i.e. a readmission
#:   index spell, that the extract never recorded.)
#: - patients.date_of_death after the extract date: clipped to the extract date. A recorded
#:   death is kept (a dead person must never be listed for outreach), and dated as late as the
#:   extract allows, so the patient is alive at every earlier as-of date, as with the bad value.
#: patients.registered_to is not an event column (never checked against extract or death).
#: Dates that are out of ORDER with the defining date (resolved before diagnosed, discharged
#: before admitted, death before birth) still reject the row: which of the two is wrong cannot be
#: told, and nulling would invent an open spell or an active register.
LATER_DATES: dict[str, dict[str, str]] = {
    "patients": {"date_of_death": CLIPPED},
    "conditions": {"resolved_on": NULLED},
    "spells": {"discharge_date": NULLED},
    "outreach_outcomes": {"contacted_on": NULLED},
}
#: Per table, dated columns whose unreadable value ("2nd Jan", "30/12/25" typed into a returned
#: sheet) is nulled with the row kept, reported like a repaired later date (rule `type` or
#: `four_digit_year`): the practice's outcome stands (its date falls back to listed_on) instead
#: of the whole returned row being rejected.
UNREADABLE_NULLED: dict[str, tuple[str, ...]] = {"outreach_outcomes": ("contacted_on",)}
UNREADABLE_RULES = ("type", "four_digit_year")
#: Text a date/timestamp column parses from: a four-digit year, ISO or day-first.
FOUR_DIGIT_YEAR = r"([0-9]{4}-.*|[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}([ T].*)?)"
#: Text that looks like a date with a one- to three-digit year (16/11/98, 98-11-16): rejected by
#: rule four_digit_year, never read as year 0098 or pivoted to 1998 / 2098.
SHORT_YEAR = r"([0-9]{1,2}/[0-9]{1,2}/[0-9]{1,3}|[0-9]{1,3}-[0-9]{1,2}-[0-9]{1,2})([ T].*)?"
#: Control characters refused in text (C0 except tab, line feed, carriage return; and DEL).
CONTROL_CHARS = r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]"


def q(name: str) -> str:
    """Quote an identifier."""
    return '"' + name.replace('"', '""') + '"'


def lit(value: object) -> str:
    """A SQL literal for a str, number or date."""
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    return repr(value)


def _list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(lit(v) for v in values) + "]"


def is_native(col: Column, source_type: str) -> bool:
    return source_type in NATIVE_TYPES[col.dtype]


def text_ref(col: Column, source_type: str) -> str:
    """How checks refer to a column's text: its trimmed text, or a native value cast lazily."""
    if is_native(col, source_type):
        return f"CAST({q('_s_' + col.name)} AS VARCHAR)"
    return q("_t_" + col.name)


def text_expr(col: Column, source_type: str) -> str:
    """The value as trimmed text, empty -> NULL: what null checks see and rejects files show."""
    raw = q("_s_" + col.name)
    if is_native(col, source_type):
        return f"CAST({raw} AS VARCHAR)"
    return f"NULLIF(trim(CAST({raw} AS VARCHAR)), '')"


def parse_expr(col: Column, source_type: str, text: str) -> str:
    """The typed value: NULL where `text` is NULL or does not parse (`text` unused if native)."""
    ref = q("_s_" + col.name)
    if col.dtype == "str":
        if col.grouped:
            grouped = f"regexp_full_match({text}, {lit(col.grouped)})"
            digits = f"regexp_replace({text}, '[ -]', '', 'g')"
            text = f"(CASE WHEN {grouped} THEN {digits} ELSE {text} END)"
        if col.fold_case:
            text = f"lower({text})"
        if not col.normalise:
            return text
        fold = str.lower if col.fold_case else str
        cases = " ".join(f"WHEN {lit(fold(k))} THEN {lit(v)}" for k, v in col.normalise.items())
        return f"(CASE {text} {cases} ELSE {text} END)"
    sql_type = {"int": "BIGINT", "float": "DOUBLE", "bool": "BOOLEAN"}.get(col.dtype, "")
    if is_native(col, source_type):
        target = {"date": "DATE", "timestamp": "TIMESTAMP"}.get(col.dtype, sql_type)
        return f"CAST({ref} AS {target})"
    if col.dtype == "int":
        return (
            f"(CASE WHEN regexp_full_match({text}, '[+-]?[0-9]{{1,18}}(\\.0*)?') "
            f"THEN CAST(regexp_replace({text}, '\\.0*$', '') AS BIGINT) END)"
        )
    if col.dtype == "float":
        return (
            f"(CASE WHEN isfinite(TRY_CAST({text} AS DOUBLE)) THEN TRY_CAST({text} AS DOUBLE) END)"
        )
    if col.dtype == "bool":
        return (
            f"(CASE WHEN lower({text}) IN {tuple(TRUE_TEXT)} THEN TRUE "
            f"WHEN lower({text}) IN {tuple(FALSE_TEXT)} THEN FALSE END)"
        )
    year_ok = f"regexp_full_match({text}, {lit(FOUR_DIGIT_YEAR)})"
    if col.dtype == "date":
        parsed = f"CAST(try_strptime({text}, {_list(DATE_FORMATS)}) AS DATE)"
        return f"(CASE WHEN {year_ok} THEN {parsed} END)"
    return f"(CASE WHEN {year_ok} THEN try_strptime({text}, {_list(TIMESTAMP_FORMATS)}) END)"


@dataclass(frozen=True)
class Check:
    """A rule broken where `condition` is true (NULL counts as not broken)."""

    condition: str
    column: str
    value: str  # SQL for the text shown in the rejects file
    rule: str

    def struct(self) -> str:
        return (
            f"CASE WHEN {self.condition} THEN {{'column': {lit(self.column)}, "
            f"'value': {self.value}, 'rule': {lit(self.rule)}}} END"
        )


def column_checks(col: Column, *, source_type: str) -> list[Check]:
    """Checks of one column: its text is `_t_<name>`, its parsed value `<name>`."""
    val, text = q(col.name), text_ref(col, source_type)
    native = is_native(col, source_type)
    checks = []
    if not col.nullable:
        checks.append(Check(f"{text} IS NULL", col.name, text, "not_null"))
    short_year = col.dtype in ("date", "timestamp") and not native
    if short_year:
        short = f"regexp_full_match({text}, {lit(SHORT_YEAR)})"
        checks.append(Check(short, col.name, text, "four_digit_year"))
    if col.dtype != "str" and not native:
        typed = f"{text} IS NOT NULL AND {val} IS NULL"
        if short_year:
            typed += f" AND NOT regexp_full_match({text}, {lit(SHORT_YEAR)})"
        checks.append(Check(typed, col.name, text, "type"))
    if col.dtype == "str":
        shown = f"regexp_replace({text}, {lit(CONTROL_CHARS)}, '?', 'g')"
        control = f"regexp_matches({text}, {lit(CONTROL_CHARS)})"
        checks.append(Check(control, col.name, shown, "no_control_characters"))
    if col.allowed:
        allowed = ", ".join(lit(v) for v in col.allowed)
        checks.append(Check(f"{val} NOT IN ({allowed})", col.name, text, "allowed"))
    if col.pattern:
        checks.append(
            Check(f"NOT regexp_full_match({val}, {lit(col.pattern)})", col.name, text, "pattern")
        )
    bounds = [f"{val} < {col.min}"] * (col.min is not None)
    bounds += [f"{val} > {col.max}"] * (col.max is not None)
    if bounds:
        checks.append(Check(f"({' OR '.join(bounds)})", col.name, text, "range"))
    return checks


def nhs_check_digit(value: str) -> str:
    """SQL: true when `value` (10 digits) fails the NHS modulus-11 check. The weighted sum of
    the first nine digits (weights 10..2) plus the tenth is a multiple of 11 exactly when the
    tenth is the check digit (11 - sum mod 11, 11 read as 0; a 10 is never issued)."""
    terms = " + ".join(f"CAST(substr({value}, {i}, 1) AS INTEGER) * {11 - i}" for i in range(1, 10))
    return (
        f"(regexp_full_match({value}, '[0-9]{{10}}') AND "
        f"({terms} + CAST(substr({value}, 10, 1) AS INTEGER)) % 11 <> 0)"
    )


#: COLUMN_WARNINGS by name -> SQL (the parsed value -> true when broken).
WARNING_SQL = {"nhs_check_digit": nhs_check_digit}
assert set(WARNING_SQL) == set(COLUMN_WARNINGS)  # one SQL per named warning rule


def warning_checks(col: Column, *, source_type: str) -> list[Check]:
    """A column's COLUMN_WARNINGS checks (on its parsed value): broken = the row is flagged."""
    text = text_ref(col, source_type)
    return [Check(WARNING_SQL[rule](q(col.name)), col.name, text, rule) for rule in col.warn_rules]


def row_checks(table: Table) -> list[Check]:
    checks = []
    for name in table.row_rules:
        predicate, columns, _ = ROW_RULES[name]
        for column in columns:
            value = f"CAST({q(column)} AS VARCHAR)"
            checks.append(Check(f"({predicate}) IS FALSE", column, value, name))
    return checks


def cross_checks(
    table: Table,
    *,
    extract_date: dt.date,
    grace_days: int,
    patients: bool,
    practices: bool,
    earliest_birth: dt.date | None = None,
    claimed: bool = False,
) -> list[Check]:
    """Cross-table checks; the patient's dates are `_dob`/`_dod`, a found patient `_pid`, its
    practice `_ppr`, the practice a returned row claims `_practice`."""
    checks = []
    if patients:
        checks.append(Check("_pid IS NULL", "patient_id", q("patient_id"), "patient_exists"))
    if claimed:
        other = "_practice IS NOT NULL AND _pid IS NOT NULL AND _ppr IS DISTINCT FROM _practice"
        checks.append(Check(other, "patient_id", q("patient_id"), "own_practice"))
    if practices:
        checks.append(Check("_prac IS NULL", "practice_code", q("practice_code"), "practice_known"))
    if earliest_birth is not None and "date_of_birth" in table.column_names:
        dob = q("date_of_birth")
        implausible = f"({dob} < {lit(earliest_birth)} OR {dob} > {lit(extract_date)})"
        value = f"CAST({dob} AS VARCHAR)"
        checks.append(Check(implausible, "date_of_birth", value, "plausible_birth_date"))
    for column in table.event_columns:
        day = f"CAST({q(column)} AS DATE)"
        value = f"CAST({q(column)} AS VARCHAR)"
        if column != "date_of_birth":
            checks.append(Check(f"{day} < _dob", column, value, "not_before_birth"))
        checks += [
            c
            for c in late_checks(column, extract_date=extract_date, grace_days=grace_days)
            if column not in LATER_DATES.get(table.name, {})
        ]
    return checks


def late_checks(column: str, *, extract_date: dt.date, grace_days: int) -> list[Check]:
    """A dated column after the extract date, or after the patient's death plus the grace."""
    day = f"CAST({q(column)} AS DATE)"
    value = f"CAST({q(column)} AS VARCHAR)"
    checks = [Check(f"{day} > {lit(extract_date)}", column, value, "not_after_extract")]
    if column != "date_of_death":
        late = f"{day} > _dod + {int(grace_days)}"
        checks.append(Check(late, column, value, "not_after_death"))
    return checks


def repair_checks(table: Table, *, extract_date: dt.date, grace_days: int) -> list[Check]:
    """The checks of the table's later dates (`LATER_DATES`): broken = the value is repaired."""
    return [
        c
        for column in LATER_DATES.get(table.name, {})
        for c in late_checks(column, extract_date=extract_date, grace_days=grace_days)
    ]


def repaired_value(table: Table, column: str, *, extract_date: dt.date) -> str:
    """SQL for what a later date that broke a repaired rule becomes."""
    # A column only in UNREADABLE_NULLED (or a later-date rule switched off) is nulled.
    action = LATER_DATES.get(table.name, {}).get(column, NULLED)
    if action == CLIPPED:
        sql_type = "TIMESTAMP" if table.column(column).dtype == "timestamp" else "DATE"
        return f"CAST({lit(extract_date)} AS {sql_type})"
    return "NULL"


def _any(checks: list[Check]) -> str:
    return " OR ".join(f"({c.condition})" for c in checks) or "FALSE"


def _list_of(checks: list[Check]) -> str:
    return f"list_filter([{', '.join(c.struct() for c in checks)}], lambda e: e IS NOT NULL)"


def check_sql(
    table: Table,
    *,
    types: dict[str, str],
    source: str,
    target: str,
    extract_date: dt.date,
    grace_days: int,
    patients: str | None,
    practices: str | None,
    earliest_birth: dt.date | None = None,
    claimed: bool = False,
) -> str:
    """The one pass over a table: parsed columns, `_viol` (NULL = good) and `_h` (row hash).

    `patients`: relation (patient_id, practice_code, date_of_birth, date_of_death) of accepted
    patients, for the patient tables; `practices`: relation (practice_code) of accepted
    practices, for patients. `claimed`: the source has `_practice` (the practice that returned
    a feedback row), checked against the patient's own (`own_practice`) and kept with the
    patient's practice `_ppr` in the output, to report rejects back to the practice.
    """
    cols = [q(c.name) for c in table.columns]
    raw = [f"{q(c.name)} AS {q('_s_' + c.name)}" for c in table.columns]
    raw += ["_practice"] if claimed else []
    texts = [
        f"{text_expr(c, types[c.name])} AS {q('_t_' + c.name)}"
        for c in table.columns
        if not is_native(c, types[c.name])
    ] or ["NULL AS _no_text"]
    parsed = [
        f"{parse_expr(c, types[c.name], q('_t_' + c.name))} AS {q(c.name)}" for c in table.columns
    ]
    own = table.name == "patients"
    joins, extra = "", ["1 AS _pid"]
    if own:
        extra += ["date_of_birth AS _dob", "date_of_death AS _dod"]
    elif patients:
        joins += f" LEFT JOIN {patients} AS pt ON pt.patient_id = p.patient_id"
        extra = ["pt.patient_id AS _pid", "pt.date_of_birth AS _dob", "pt.date_of_death AS _dod"]
        extra += ["pt.practice_code AS _ppr"] if claimed else []
    else:
        extra += ["NULL::DATE AS _dob", "NULL::DATE AS _dod"]
    if practices:
        joins += f" LEFT JOIN {practices} AS pr ON pr.practice_code = p.practice_code"
        extra.append("pr.practice_code AS _prac")
    first = [chk for c in table.columns for chk in column_checks(c, source_type=types[c.name])]
    soft = UNREADABLE_NULLED.get(table.name, ())
    unreadable = [c for c in first if c.column in soft and c.rule in UNREADABLE_RULES]
    first = [c for c in first if c not in unreadable]
    first += row_checks(table)
    second = cross_checks(
        table,
        extract_date=extract_date,
        grace_days=grace_days,
        patients=bool(patients) and not own,
        practices=bool(practices),
        earliest_birth=earliest_birth if own else None,
        claimed=claimed and bool(patients),
    )
    viol = f"CASE WHEN {_any(first)} THEN {_list_of(first)}"
    viol += f" WHEN {_any(second)} THEN {_list_of(second)} END" if second else " END"
    fixes = unreadable + repair_checks(table, extract_date=extract_date, grace_days=grace_days)
    fix = f"CASE WHEN {_any(fixes)} THEN {_list_of(fixes)} END" if fixes else "NULL"
    warns = [w for c in table.columns for w in warning_checks(c, source_type=types[c.name])]
    flag = f"CASE WHEN {_any(warns)} THEN {_list_of(warns)} END" if warns else "NULL"
    stored = []
    for c in table.columns:
        broken = [f.condition for f in fixes if f.column == c.name]
        if broken:
            now = repaired_value(table, c.name, extract_date=extract_date)
            when = " OR ".join(f"({b})" for b in broken)
            stored.append(f"CASE WHEN _viol IS NULL AND ({when}) THEN {now} ELSE {q(c.name)} END")
        else:
            stored.append(q(c.name))
    stored_cols = ", ".join(f"{e} AS {n}" for e, n in zip(stored, cols, strict=True))
    tail = ", _practice, _ppr" if claimed and patients else ""
    return (
        f"CREATE TABLE {target} AS\n"
        f"WITH s AS (SELECT _file, _row, {', '.join(raw)} FROM {source}),\n"
        f"t AS (SELECT *, {', '.join(texts)} FROM s),\n"
        f"p AS (SELECT *, {', '.join(parsed)} FROM t),\n"
        f"x AS (SELECT p.*, {', '.join(extra)} FROM p{joins}),\n"
        f"y AS (SELECT *, {viol} AS _viol FROM x),\n"
        f"z AS (SELECT _file, _row, {stored_cols}, _viol, "
        f"CASE WHEN _viol IS NULL THEN {fix} END AS _fix, "
        f"CASE WHEN _viol IS NULL THEN {flag} END AS _flag{tail} FROM y)\n"
        f"SELECT _file, _row, {', '.join(cols)}, _viol, _fix, _flag, "
        f"hash({', '.join(cols)}) AS _h{tail} FROM z"
    )


def file_label(index: str, labels: list[str]) -> str:
    """SQL mapping a file index (`_file`) to the file's name."""
    return f"{_list(tuple(labels) or ('',))}[{index} + 1]"


def duplicates_sql(table: Table, *, checked: str, labels: list[str]) -> str:
    """Rows (file index, row, column, value, rule) for duplicates among the good rows."""
    cols = ", ".join(q(c.name) for c in table.columns)
    order = "ORDER BY _file, _row"
    copies = (
        f"WITH ok AS (SELECT * FROM {checked} WHERE _viol IS NULL),\n"
        "cand AS (SELECT * FROM ok SEMI JOIN "
        "(SELECT _h FROM ok GROUP BY _h HAVING count(*) > 1) AS d USING (_h)),\n"
        f"w AS (SELECT *, row_number() OVER w AS _copy, first_value(_file) OVER w AS _ff, "
        f"first_value(_row) OVER w AS _fr FROM cand WINDOW w AS (PARTITION BY {cols} {order}))\n"
    )
    dup_rows = (
        f"SELECT _file AS file, _row AS row, '*' AS \"column\", "
        f"'copy of ' || {file_label('_ff', labels)} || ' row ' || _fr AS value, "
        f"'{DUP_ROW}' AS rule FROM w WHERE _copy > 1"
    )
    if not table.key:
        return copies + dup_rows
    key = ", ".join(q(k) for k in table.key)
    shown = " || '|' || ".join(f"coalesce(CAST({q(k)} AS VARCHAR), '')" for k in table.key)
    return (
        copies.rstrip("\n")
        + ",\n"
        + f"distinct_ok AS (SELECT * FROM ok ANTI JOIN (SELECT _file, _row FROM w "
        f"WHERE _copy > 1) AS c USING (_file, _row)),\n"
        f"kc AS (SELECT * FROM distinct_ok SEMI JOIN (SELECT {key} FROM distinct_ok "
        f"GROUP BY ALL HAVING count(*) > 1) AS d USING ({key})),\n"
        f"kw AS (SELECT *, row_number() OVER (PARTITION BY {key} {order}) AS _rank FROM kc)\n"
        f"{dup_rows}\nUNION ALL SELECT _file, _row, {lit(','.join(table.key))}, {shown}, "
        f"'{DUP_KEY}' FROM kw WHERE _rank > 1"
    )


def rejects_sql(*, checked: str, duplicates: str, labels: list[str]) -> str:
    """Every violation of a table as rows (file name, row, column, value, rule, file index)."""
    return (
        f'SELECT {file_label("fi", labels)} AS file, row, "column", value, rule, '
        "fi AS _fi FROM ("
        f'SELECT _file AS fi, _row AS row, v.column AS "column", v.value AS value, '
        f"v.rule AS rule FROM (SELECT _file, _row, unnest(_viol) AS v FROM {checked} "
        f"WHERE _viol IS NOT NULL)\nUNION ALL SELECT * FROM {duplicates})"
    )


def repairs_sql(*, checked: str, duplicates: str, labels: list[str], field: str = "_fix") -> str:
    """Every repaired value of a table's accepted rows (duplicates are not accepted): (file,
    row, column, value, rule), the value as it was in the extract. field="_flag": the values
    kept as they were that break a COLUMN_WARNINGS rule, likewise."""
    return (
        f'SELECT {file_label("_file", labels)} AS file, _row AS row, v.column AS "column", '
        f"v.value AS value, v.rule AS rule, _file AS _fi FROM (SELECT _file, _row, "
        f"unnest({field}) AS v "
        f"FROM {checked} ANTI JOIN (SELECT file AS _file, row AS _row FROM {duplicates}) "
        f"AS d USING (_file, _row) WHERE {field} IS NOT NULL)"
    )


def accepted_sql(table: Table, *, checked: str, duplicates: str) -> str:
    """The accepted rows, in contract column order."""
    cols = ", ".join(q(c.name) for c in table.columns)
    return (
        f"SELECT {cols} FROM {checked} ANTI JOIN (SELECT file AS _file, row AS _row "
        f"FROM {duplicates}) AS d USING (_file, _row) WHERE _viol IS NULL"
    )
