"""Contacts hold obviously fake identifiers: NHS numbers that fail modulus 11, drama-range phones,
and no identifier ever reaches the truth folder or the other tables."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq

from riskstrat.registry.contract import TABLES
from riskstrat.synth.identity import fake_nhs_numbers, is_valid_nhs_number


def test_synth_checker_accepts_a_valid_number():
    assert is_valid_nhs_number("9434765919")  # the NHS's published example number
    assert not is_valid_nhs_number("9434765918")
    assert not is_valid_nhs_number("943476591")


def test_synth_fake_nhs_numbers_fail_modulus_11():
    numbers = fake_nhs_numbers(np.random.default_rng(0), 20_000).to_pylist()
    assert len(set(numbers)) == len(numbers)
    assert all(len(n) == 10 and n.isdigit() for n in numbers)
    assert not any(is_valid_nhs_number(n) for n in numbers)


def test_synth_contacts_are_fake_and_confined(synth_population):
    folder = synth_population[0]
    contacts = pq.read_table(folder / "extract" / "contacts.parquet").to_pandas()
    assert not contacts["nhs_number"].map(is_valid_nhs_number).any()
    assert contacts["phone"].str.fullmatch(r"01632 960\d{3}").all()
    identifiers = [c.name for c in TABLES["contacts"].columns if c.name != "patient_id"]
    for path in [*(folder / "extract").glob("*.parquet"), *(folder / "truth").glob("*.parquet")]:
        if path.name != "contacts.parquet":
            assert not set(identifiers) & set(pq.read_schema(path).names), path.name
