"""An attacker who divides and multiplies the published columns must not recover a count.

Issue 12 item 8: `expected_admissions / mean_risk` and `listing_rate x people` recovered exact
counts. The attacker here takes every published number of a group (value, lower, upper of
every measure) and of its dimension's total, forms every ratio and product of two of them, and
looks for the group's true counts (and the sum of its hidden counts) among them. Targets are
counts the rounding hides (8 or more and not equal to a published count: 12 shown as 10, the sum
of a row's hidden cells); counts of 1-7 are hidden with every figure derived from them (see
test_reports_aggregates) and bounded by the LP attacker of test_reports_suppression. Ratios of
two published counts are public knowledge and not candidates.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from reports_synthetic import inputs

from riskstrat.reports.aggregates import build_aggregates
from riskstrat.reports.dictionary import kind_of
from riskstrat.reports.population import EQUITY_SLICES, assign_bands, practice_groups
from riskstrat.reports.settings import load_report_config
from riskstrat.reports.suppression import TOTAL
from riskstrat.slices import assign_slices

CONFIG = load_report_config()


def true_counts(args: dict) -> dict[tuple[str, str, str], dict[str, int]]:
    """(section, dimension, group) -> {count measure: true count}, computed here independently."""
    cohort, matured = args["cohort"], args["matured"]
    out: dict[tuple[str, str, str], dict[str, int]] = {}
    slices = assign_slices(cohort, names=EQUITY_SLICES)
    for name in EQUITY_SLICES:
        listed = cohort["listed"].astype(bool)
        for group, part in listed.groupby(slices[name].to_numpy()):
            out[("equity", name, str(group))] = {
                "people": len(part), "listed": int(part.sum()),
                "not_listed": int((~part).sum())}  # fmt: skip
        out[("equity", name, TOTAL)] = {"people": len(cohort), "listed": int(listed.sum()),
                                        "not_listed": int((~listed).sum())}  # fmt: skip
    bands = assign_bands(cohort["risk"], cohort["patient_id"], config=CONFIG)
    groups = practice_groups(args["practices"])
    areas = {code: [code] for codes in groups.values() for code in codes}
    areas |= {pcn: codes for pcn, codes in groups.items()}
    for area, codes in areas.items():
        dim = "pcn" if area in groups else "practice"
        sel = cohort["practice_code"].isin(codes)
        out[("geography", dim, area)] = {"people": int(sel.sum())} | {
            f"people_{b.name}": int((sel & (bands == b.name)).sum()) for b in CONFIG.pyramid
        }
        msel = matured["practice_code"].isin(codes)
        out[("performance", dim, area)] = {
            "people": int(msel.sum()), "admitted": int(matured["label"][msel].sum())}  # fmt: skip
    out[("geography", "ics", TOTAL)] = {"people": len(cohort)}
    out[("activity", "ics", TOTAL)] = {"people": len(cohort)}
    return out


def recovered(agg: pd.DataFrame, truth: dict) -> list[tuple]:
    """Every (group, target) the attacker pins from pairwise ratios and products."""
    found = []
    for (section, dim, group), counts in truth.items():
        block = agg[(agg.section == section) & (agg.dimension.isin([dim, "ics"]))]
        own = block[block.group == group]
        rows = pd.concat([own, block[block.group == TOTAL]])
        is_count = rows["measure"].map(kind_of).eq("count").to_numpy()
        pairs = [
            (float(v), bool(c and col == "value"))
            for col in ("value", "lower", "upper")
            for v, c in zip(rows[col], is_count, strict=True)
            if np.isfinite(v) and v != 0
        ]
        derived = [np.array([v for v, _ in pairs])] + [
            np.array([a / b, a * b])
            for (a, ca), (b, cb) in itertools.permutations(pairs, 2)
            if not (ca and cb)
        ]
        candidates = np.concatenate(derived)
        shown = own[own.measure.isin(counts)].set_index("measure")
        public = set(shown["value"].dropna())
        hidden_sum = sum(
            n for m, n in counts.items() if m in shown.index and shown.at[m, "suppressed"]
        )
        targets = dict(counts) | ({"sum of hidden": hidden_sum} if hidden_sum else {})
        for measure, n in targets.items():
            if n in public or n < 8:
                continue
            if np.any(np.abs(candidates - n) < 1e-9 * max(n, 1)):
                found.append((section, dim, group, measure, n))
    return found


@pytest.fixture(scope="module")
def case() -> tuple[dict, pd.DataFrame]:
    args = inputs()
    return args, build_aggregates(**args, config=CONFIG)


def test_no_count_recovered_from_derived_columns(case) -> None:
    args, agg = case
    truth = true_counts(args)
    assert len(truth) > 40
    assert not recovered(agg, truth)


def test_the_attacker_is_real(case) -> None:
    """Published the old way (exact sums and means from true counts), the attack succeeds."""
    args, agg = case
    cohort = args["cohort"]
    by = cohort.groupby("practice_code")["risk"]
    old = pd.DataFrame(
        [("geography", "practice", code, m, v) for code in by.groups
         for m, v in (("expected_admissions", by.get_group(code).sum()),
                      ("mean_risk", by.get_group(code).mean()))],
        columns=["section", "dimension", "group", "measure", "value"],
    ).assign(lower=np.nan, upper=np.nan, suppressed=False)  # fmt: skip
    kept = agg[~((agg.section == "geography") & agg.measure.isin(["expected_admissions"]))]
    found = recovered(pd.concat([kept, old], ignore_index=True), true_counts(args))
    assert {("geography", "practice", code, "people") for code in by.groups} <= {
        f[:4] for f in found
    }
