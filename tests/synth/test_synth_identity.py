"""Contacts hold obviously fake identifiers: NHS numbers from the range NHS England reserves for
test data (valid, never issued), drama-range phones, and no identifier ever reaches the truth
folder or the other tables."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq

from riskstrat.registry import nhs_numbers
from riskstrat.registry.contract import TABLES
from riskstrat.registry.nhs_numbers import is_valid, never_issued_numbers, reserved_numbers
from riskstrat.synth.identity import nhs_numbers as synth_numbers


def test_the_checker_on_the_nhs_published_example():
    assert is_valid("9434765919")  # the NHS's published example number
    assert not is_valid("9434765918") and not is_valid("9434675919")  # a digit, a swap
    assert not is_valid("943476591") and not is_valid("94347659x9")


def test_the_reserved_test_range_is_valid_never_issued_and_shared_out_without_clashes():
    """Every valid number of 999 000 0000-999 999 9999 (a tenth of the nine-digit stems have
    check digit 10 and are left out); people at any positions get distinct numbers."""
    assert len(nhs_numbers._test_range()) == nhs_numbers.TEST_RANGE_SIZE
    assert 0.90 < nhs_numbers.TEST_RANGE_SIZE / 1_000_000 < 0.92
    numbers = reserved_numbers(np.arange(0, nhs_numbers.TEST_RANGE_SIZE, 97))
    assert all(n.startswith("999") and is_valid(n) for n in numbers)
    assert len(set(numbers)) == len(numbers)
    # two chunks of one population (persons 0-9 and 10-19) never share a number
    chunks = [synth_numbers(None, span=s, population=20, block=(0, 1)) for s in ((0, 10), (10, 20))]
    assert len(set(chunks[0].to_pylist()) | set(chunks[1].to_pylist())) == 20


def test_a_population_larger_than_the_range_gets_numbers_that_fail_the_check():
    rng = np.random.default_rng(0)
    big = nhs_numbers.TEST_RANGE_SIZE + 1
    numbers = synth_numbers(rng, span=(0, 20_000), population=big, block=(0, 1)).to_pylist()
    assert len(set(numbers)) == len(numbers)
    assert all(len(n) == 10 and n.isdigit() and not n.startswith("999") for n in numbers)
    assert not any(is_valid(n) for n in numbers)
    other = never_issued_numbers(np.random.default_rng(0), 20_000, block=(1, 2))
    assert not set(other) & set(never_issued_numbers(rng, 20_000, block=(0, 2)))


def test_synth_contacts_are_fake_and_confined(synth_population):
    folder = synth_population[0]
    contacts = pq.read_table(folder / "extract" / "contacts.parquet").to_pandas()
    assert contacts["nhs_number"].map(is_valid).all()
    assert contacts["nhs_number"].str.startswith("999").all()
    assert contacts["phone"].str.fullmatch(r"01632 960\d{3}").all()
    identifiers = [c.name for c in TABLES["contacts"].columns if c.name != "patient_id"]
    for path in [*(folder / "extract").glob("*.parquet"), *(folder / "truth").glob("*.parquet")]:
        if path.name != "contacts.parquet":
            assert not set(identifiers) & set(pq.read_schema(path).names), path.name
