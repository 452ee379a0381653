"""Patients, practices and (placeholder) contacts from person, death, observation_period,
care_site, provider and location. See docs/omop.md for each rule."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from riskstrat.adapters.codes import practice_codes
from riskstrat.adapters.omop.concepts import lookup
from riskstrat.adapters.omop.mappings import OmopRules
from riskstrat.adapters.synthea.people import fake_nhs_numbers
from riskstrat.adapters.synthea.report import TableCounts
from riskstrat.config import IngestConfig

DEATH_AFTER_EXTRACT = "date_of_death after the extract date: not yet known, set to null"
BORN_AFTER_EXTRACT = "born after the extract date"
BORN_TOO_EARLY = (
    "born before ingest.earliest_birth_date (an implausible date of birth, which ingest would "
    "reject with all the person's records)"
)
#: ingest.earliest_birth_date's default (riskstrat.config.IngestConfig), when none is given.
EARLIEST_BIRTH = IngestConfig().earliest_birth_date
NO_REGISTRATION = "no observation period starting on or before the extract date"
DEATH_BEFORE_BIRTH = "date_of_death before the date of birth: set to null"
PERIOD_ENDED = "observation period ended before the extract date: registered_to set"
NO_PERIOD = "no observation_period table: registered from the person's first record"
UNASSIGNED = "no care site (or location) to group by: the unassigned practice"
LSOA = r"[EWS]0[01][0-9]{6}"
#: Practice-code prefixes (riskstrat.adapters.codes): a care site's, a location's.
CARE_SITE_PREFIX = "CS"
LOCATION_PREFIX = "LOC"


def care_site_codes(ids: pd.Series) -> pd.Series:
    return practice_codes(CARE_SITE_PREFIX, ids, source="care_site_id")


def location_codes(ids: pd.Series) -> pd.Series:
    return practice_codes(LOCATION_PREFIX, ids, source="location_id")


def birth_dates(person: pd.DataFrame, *, rules: OmopRules) -> pd.Series:
    """birth_datetime's day, else year/month/day_of_birth (missing month/day from the rules)."""
    year = person["year_of_birth"].astype("Int64")
    month = person.get("month_of_birth", pd.Series(pd.NA, index=person.index)).astype("Int64")
    day = person.get("day_of_birth", pd.Series(pd.NA, index=person.index)).astype("Int64")
    parts = pd.DataFrame(
        {
            "year": year,
            "month": month.fillna(rules.people.missing_birth_month),
            "day": day.fillna(rules.people.missing_birth_day),
        }
    )
    composed = pd.to_datetime(parts.astype("int64"), errors="coerce")
    given = person.get("birth_datetime", pd.Series(pd.NaT, index=person.index))
    return given.dt.normalize().fillna(composed).astype("datetime64[us]")


def known_people(
    person: pd.DataFrame,
    death: pd.DataFrame | None,
    *,
    rules: OmopRules,
    extract_date: pd.Timestamp,
    earliest_birth: date = EARLIEST_BIRTH,
) -> tuple[pd.DataFrame, TableCounts]:
    """patient_id, person_id, date_of_birth, date_of_death (as known at the extract) + person;
    people born after the extract date or before `earliest_birth` are dropped (counted)."""
    counts = TableCounts()
    people = person.assign(
        patient_id=person["person_id"].astype("str"),
        date_of_birth=birth_dates(person, rules=rules),
    )
    unborn = people["date_of_birth"] > extract_date
    counts.dropped[BORN_AFTER_EXTRACT] += int(unborn.sum())
    early = people["date_of_birth"] < pd.Timestamp(earliest_birth)
    counts.dropped[BORN_TOO_EARLY] += int((early & ~unborn).sum())
    people = people[~unborn & ~early]
    date_of_death = pd.Series(pd.NaT, index=people.index, dtype="datetime64[us]")
    if death is not None:
        died = death.groupby("person_id")["death_date"].min().to_dict()
        mapped = people["person_id"].astype("object").map(died)
        date_of_death = pd.to_datetime(mapped).astype("datetime64[us]")
    late = date_of_death > extract_date
    counts.adjusted[DEATH_AFTER_EXTRACT] += int(late.sum())
    early = date_of_death < people["date_of_birth"]
    counts.adjusted[DEATH_BEFORE_BIRTH] += int(early.sum())
    people = people.assign(date_of_death=date_of_death.mask(late | early))
    return people.reset_index(drop=True), counts


def registration(
    people: pd.DataFrame,
    periods: pd.DataFrame | None,
    first_record: pd.Series,
    *,
    rules: OmopRules,
    extract_date: pd.Timestamp,
    counts: TableCounts,
) -> pd.DataFrame:
    """registered_from / registered_to per person from the latest observation period."""
    if periods is None:
        counts.adjusted[NO_PERIOD] += len(people)
        start = people["patient_id"].map(first_record).fillna(people["date_of_birth"])
        return people.assign(registered_from=start, registered_to=pd.NaT)
    periods = periods[periods["observation_period_start_date"] <= extract_date]
    latest = periods.sort_values("observation_period_start_date").groupby("person_id").last()
    ids = people["person_id"].astype("object")
    start = pd.to_datetime(ids.map(latest["observation_period_start_date"].to_dict()))
    end = pd.to_datetime(ids.map(latest["observation_period_end_date"].to_dict()))
    current = extract_date - pd.Timedelta(days=rules.people.current_within_days)
    ended = end.notna() & (end < current) & people["date_of_death"].isna()
    counts.adjusted[PERIOD_ENDED] += int(ended.sum())
    return people.assign(registered_from=start, registered_to=end.where(ended))


def ethnicity(people: pd.DataFrame, *, concept: pd.DataFrame | None, rules: OmopRules) -> pd.Series:
    race = people.get("race_concept_id", pd.Series(pd.NA, index=people.index))
    group = race.map(rules.people.race)
    names = (
        lookup(race, concept.set_index("concept_id")["concept_name"])
        if concept is not None
        else None
    )
    text = people.get("race_source_value", pd.Series(pd.NA, index=people.index))
    if names is not None:
        text = names.fillna(text)
    text = text.fillna("").astype("str").str.lower()
    for keyword, value in rules.people.race_keywords.items():
        group = group.mask(group.isna() & text.str.contains(rf"\b{keyword}\b"), value)
    return group.fillna("Unknown")


def sexes(people: pd.DataFrame, *, rules: OmopRules) -> pd.Series:
    sex = people["gender_concept_id"].map(rules.people.gender)
    source = people.get("gender_source_value", pd.Series(pd.NA, index=people.index))
    sex = sex.fillna(source.astype("str").str.lower().map(rules.people.gender_source_values))
    return sex.fillna("U")


def build_patients(
    people: pd.DataFrame,
    *,
    practice: pd.Series,
    location: pd.DataFrame | None,
    concept: pd.DataFrame | None,
    care_home: set[str],
    rules: OmopRules,
) -> pd.DataFrame:
    """The contract patients table; `people` has registration already (see `registration`)."""
    lsoa = pd.Series(pd.NA, index=people.index, dtype="str")
    if location is not None and "location_source_value" in location and "location_id" in people:
        source = people["location_id"].map(
            location.set_index("location_id")["location_source_value"]
        )
        lsoa = source.where(source.astype("str").str.fullmatch(LSOA).fillna(False).astype(bool))
    return pd.DataFrame(
        {
            "patient_id": people["patient_id"],
            "practice_code": people["patient_id"].map(practice),
            "date_of_birth": people["date_of_birth"],
            "sex": sexes(people, rules=rules),
            "ethnicity": ethnicity(people, concept=concept, rules=rules),
            "lsoa_code": lsoa,
            "imd_decile": pd.Series(pd.NA, index=people.index, dtype="Int64"),
            "registered_from": people["registered_from"].where(
                people["registered_from"] > people["date_of_birth"], people["date_of_birth"]
            ),
            "registered_to": people["registered_to"],
            "date_of_death": people["date_of_death"],
            "lives_alone": pd.Series(pd.NA, index=people.index, dtype="boolean"),
            "care_home": people["patient_id"].isin(care_home) & people["date_of_death"].isna(),
            "data_opt_out": False,
        }
    ).reset_index(drop=True)


def _by_care_site(people: pd.DataFrame, *, gp_visits: pd.DataFrame) -> pd.Series:
    """The person's care_site_id, else the care site of most of their GP-contact visits."""
    own = people.get("care_site_id", pd.Series(pd.NA, index=people.index))
    code = care_site_codes(own)
    visits = gp_visits.dropna(subset=["care_site_id"]) if "care_site_id" in gp_visits else gp_visits
    if len(visits) and "care_site_id" in visits:
        most = (
            visits.groupby(["patient_id", "care_site_id"]).size().rename("n").reset_index()
            .sort_values(["patient_id", "n"], ascending=[True, False])
            .drop_duplicates("patient_id").set_index("patient_id")["care_site_id"]
        )  # fmt: skip
        code = code.fillna(people["patient_id"].map(care_site_codes(most)))
    return code


def assign_practices(
    people: pd.DataFrame,
    *,
    gp_visits: pd.DataFrame,
    rules: OmopRules,
    counts: TableCounts,
) -> pd.Series:
    """patient_id -> practice_code by the configured grouping (see adapter.yaml practices)."""
    code = pd.Series(pd.NA, index=people.index, dtype="str")
    for grouping in rules.practices.grouping:
        if grouping == "care_site":
            code = code.fillna(_by_care_site(people, gp_visits=gp_visits))
        elif "location_id" in people:
            loc = people["location_id"]
            code = code.fillna(location_codes(loc))
    missing = code.isna()
    counts.adjusted[UNASSIGNED] += int(missing.sum())
    code = code.fillna(rules.practices.unassigned.code)
    return pd.Series(code.to_numpy(), index=people["patient_id"].to_numpy())


def build_practices(
    patients: pd.DataFrame,
    *,
    care_site: pd.DataFrame | None,
    location: pd.DataFrame | None,
    rules: OmopRules,
) -> pd.DataFrame:
    """One practice per practice_code in patients; PCN = the care site's / location's ZIP area."""
    codes = pd.Series(sorted(patients["practice_code"].unique()), dtype="str")
    names = pd.Series(codes.to_numpy(), index=codes.to_numpy(), dtype="str")
    zips = pd.Series(pd.NA, index=codes.to_numpy(), dtype="str")
    loc_zip = (
        location.set_index("location_id")["zip"]
        if location is not None and "zip" in location
        else pd.Series(dtype="str")
    )
    if care_site is not None:
        sites = care_site.assign(code=care_site_codes(care_site["care_site_id"])).set_index("code")
        if "care_site_name" in sites:
            names.update(sites["care_site_name"].dropna())
        if "location_id" in sites:
            zips.update(sites["location_id"].map(loc_zip).dropna())
    if location is not None:
        locs = location.assign(code=location_codes(location["location_id"])).set_index("code")
        label = locs.get("location_source_value", pd.Series(dtype="str")).fillna(locs.get("zip"))
        names.update(("Area " + label.astype("str")).dropna())
        if "zip" in locs:
            zips.update(locs["zip"].dropna())
    names[names.index == rules.practices.unassigned.code] = rules.practices.unassigned.name
    area = zips.astype("str").str.replace(r"\W", "", regex=True).str[:3].where(zips.notna())
    area = area.fillna("000").str.upper()
    alive = patients[patients["date_of_death"].isna()].groupby("practice_code").size()
    cap = rules.practices.weekly_capacity
    size = codes.map(alive).fillna(0)
    return pd.DataFrame(
        {
            "practice_code": codes,
            "practice_name": names.reindex(codes).to_numpy(),
            "pcn_code": ("PCN" + area.reindex(codes)).to_numpy(),
            "pcn_name": ("Area " + area.reindex(codes)).to_numpy(),
            "weekly_capacity": np.maximum(
                cap.minimum, np.round(size * cap.per_1000_registered / 1000)
            ).astype("int64"),
        }
    )


def build_contacts(patients: pd.DataFrame, *, rules: OmopRules) -> pd.DataFrame:
    """Placeholder contacts: OMOP has no identifiers. Names say so; NHS numbers fail the
    modulus-11 check by construction (see the Synthea adapter), so none can be a real person's."""
    ids = sorted(patients["patient_id"])
    return pd.DataFrame(
        {
            "patient_id": ids,
            "nhs_number": fake_nhs_numbers(len(ids)),
            "given_name": rules.contacts.given_name,
            "family_name": [rules.contacts.family_name_prefix + i for i in ids],
            "phone": pd.Series(pd.NA, index=range(len(ids)), dtype="str"),
            "address": pd.Series(pd.NA, index=range(len(ids)), dtype="str"),
        }
    )
