"""Concept resolution: condition concepts -> registers, drug concepts -> BNF-like classes,
measurement concepts -> observation codes, and the acute-condition set for admissions.

Pure functions over the instance's vocabulary frames (CONCEPT, CONCEPT_ANCESTOR: either may be
None) and the mappings; each returns a lookup keyed by concept id, plus per-source-value lookups
where the source value itself carries a code (SNOMED, ICD-10, LOINC, RxNorm).
"""

from __future__ import annotations

import re

import pandas as pd

from riskstrat.adapters.omop.mappings import OmopMappings

ICD10 = re.compile(r"^([A-Z][0-9]{2})\.?([0-9A-Z]*)$")


def ancestors_of(
    concept_ids: pd.Series, *, ancestry: pd.DataFrame | None, targets: set[int]
) -> pd.Series:
    """concept id -> the target concept it descends from (itself when it is a target), else NA.

    With CONCEPT_ANCESTOR every listed ancestor's descendants match; without it only the targets
    themselves. When several targets contain a concept, the nearest (fewest levels) wins.
    """
    ids = pd.Series(concept_ids.dropna().unique()).astype("int64")
    found = pd.Series(pd.NA, index=ids, dtype="Int64")
    direct = ids[ids.isin(targets)]
    found[direct.to_numpy()] = direct.to_numpy()
    if ancestry is not None and len(ids):
        rows = ancestry[
            ancestry["descendant_concept_id"].isin(ids)
            & ancestry["ancestor_concept_id"].isin(targets)
        ]
        if "min_levels_of_separation" in rows:
            rows = rows.sort_values("min_levels_of_separation")
        rows = rows.drop_duplicates("descendant_concept_id")
        hit = rows.set_index("descendant_concept_id")["ancestor_concept_id"].astype("Int64")
        todo = found.isna() & found.index.isin(hit.index)
        found[todo] = hit.reindex(found.index[todo]).to_numpy()
    return found


def concept_codes(concept: pd.DataFrame | None, *, vocabularies: tuple[str, ...]) -> pd.Series:
    """concept_id -> concept_code for the given vocabularies (empty without a CONCEPT table)."""
    if concept is None:
        return pd.Series(dtype="str")
    rows = concept[concept["vocabulary_id"].isin(vocabularies)]
    return rows.set_index("concept_id")["concept_code"].astype("str")


def lookup(ids: pd.Series, table: pd.Series) -> pd.Series:
    """ids mapped through `table` as an object series (NA where absent, whatever the dtypes)."""
    return ids.astype("object").map(table.to_dict()).astype("object")


def concept_names(concept: pd.DataFrame | None) -> pd.Series:
    if concept is None:
        return pd.Series(dtype="str")
    return concept.set_index("concept_id")["concept_name"].astype("str")


def icd10_register(values: pd.Series, *, maps: OmopMappings) -> pd.Series:
    """ICD-10 source values ('E11.9', 'E119', 'I50') -> register by the longest listed prefix."""
    text = values.astype("str").str.upper().str.strip()
    code = text.str.replace(".", "", regex=False).where(text.str.match(ICD10.pattern))
    out = pd.Series(pd.NA, index=values.index, dtype="str")
    prefixes = sorted(maps.registers.icd10, key=len, reverse=True)
    excluded = code.str.startswith(tuple(maps.registers.icd10_exclude)).fillna(False).astype(bool)
    for prefix in prefixes:
        hit = out.isna() & code.str.startswith(prefix).fillna(False).astype(bool) & ~excluded
        out = out.mask(hit, maps.registers.icd10[prefix])
    return out


def condition_registers(
    conditions: pd.DataFrame, *, vocab: dict[str, pd.DataFrame | None], maps: OmopMappings
) -> tuple[pd.Series, pd.Series]:
    """(register per condition row or NA, route per row: ancestor / snomed / icd10 / NA)."""
    registers = maps.registers
    concept_id = conditions["condition_concept_id"]
    ancestry = vocab.get("concept_ancestor")
    excluded_hit = ancestors_of(concept_id, ancestry=ancestry, targets=set(registers.exclude))
    excluded = concept_id.map(excluded_hit).notna()
    target = ancestors_of(concept_id, ancestry=ancestry, targets=set(registers.ancestors))
    by_ancestor = concept_id.map(target).map(
        {k: v.register_code for k, v in registers.ancestors.items()}
    )
    by_ancestor = by_ancestor.mask(excluded)
    snomed = maps.snomed_registers()
    code = lookup(concept_id, concept_codes(vocab.get("concept"), vocabularies=("SNOMED",)))
    source = conditions.get("condition_source_value", pd.Series(pd.NA, index=conditions.index))
    by_snomed = code.map(snomed).fillna(source.map(snomed)).mask(excluded)
    by_icd = icd10_register(source.fillna(""), maps=maps)
    register = by_ancestor.fillna(by_snomed).fillna(by_icd)
    route = pd.Series(pd.NA, index=conditions.index, dtype="str")
    route = route.mask(by_icd.notna(), "icd10").mask(by_snomed.notna(), "snomed")
    route = route.mask(by_ancestor.notna(), "ancestor")
    return register.astype("str").where(register.notna()), route


def drug_classes(
    drugs: pd.DataFrame, *, vocab: dict[str, pd.DataFrame | None], maps: OmopMappings
) -> pd.Series:
    """BNF-like class per drug_exposure row, or NA."""
    concept_id = drugs["drug_concept_id"]
    ingredient_class = {
        ingredient: bnf
        for bnf, entry in maps.drugs.classes.items()
        for ingredient in entry.ingredients
    }
    target = ancestors_of(
        concept_id, ancestry=vocab.get("concept_ancestor"), targets=set(ingredient_class)
    )
    by_ingredient = concept_id.map(target).map(ingredient_class)
    names = lookup(concept_id, concept_names(vocab.get("concept")))
    source = drugs.get("drug_source_value", pd.Series(pd.NA, index=drugs.index))
    text = names.fillna(source).fillna("").astype("str").str.lower()
    by_name = pd.Series(pd.NA, index=drugs.index, dtype="str")
    for bnf, entry in maps.drugs.classes.items():
        words = [*entry.ingredients.values(), *entry.names]
        pattern = r"\b(?:" + "|".join(re.escape(w.lower()) for w in words) + r")\b"
        by_name = by_name.mask(by_name.isna() & text.str.contains(pattern, regex=True), bnf)
    rxnorm = {code: e.bnf for code, e in maps.synthea_bnf.codes.items()}
    code = lookup(concept_id, concept_codes(vocab.get("concept"), vocabularies=("RxNorm",)))
    by_code = code.map(rxnorm).fillna(source.map(rxnorm))
    result = by_ingredient.fillna(by_name).fillna(by_code)
    return result.astype("str").where(result.notna())


def measurement_loinc(
    rows: pd.DataFrame, *, vocab: dict[str, pd.DataFrame | None], maps: OmopMappings
) -> pd.Series:
    """The listed LOINC code of each measurement row, or NA."""
    listed = maps.measurements.codes
    by_id = {cid: loinc for loinc, e in listed.items() for cid in e.concept_ids}
    concept_id = rows["measurement_concept_id"]
    code = lookup(concept_id, concept_codes(vocab.get("concept"), vocabularies=("LOINC",)))
    source = rows.get("measurement_source_value", pd.Series(pd.NA, index=rows.index))
    found = code.where(code.isin(list(listed)))
    found = found.fillna(source.where(source.isin(list(listed))))
    return found.fillna(concept_id.map(by_id))


def acute_conditions(
    conditions: pd.DataFrame | None, *, vocab: dict[str, pd.DataFrame | None], maps: OmopMappings
) -> set[int]:
    """visit_occurrence_ids with an acute condition recorded at them (SNOMED code or source)."""
    if conditions is None or "visit_occurrence_id" not in conditions:
        return set()
    acute = set(maps.acute_snomed)
    code = lookup(
        conditions["condition_concept_id"],
        concept_codes(vocab.get("concept"), vocabularies=("SNOMED",)),
    )
    source = conditions.get("condition_source_value", pd.Series(pd.NA, index=conditions.index))
    hit = code.isin(acute) | source.isin(acute)
    return set(conditions.loc[hit, "visit_occurrence_id"].dropna().astype("int64"))
