"""Obviously fake identifiers for the contacts table.

NHS numbers come from the range NHS England reserves for test data (valid, never issued, so no
real person's number can appear; riskstrat.registry.nhs_numbers), phone numbers are in Ofcom's
drama range (01632 960000-960999), names and streets are invented.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from riskstrat.registry.nhs_numbers import TEST_RANGE_SIZE, never_issued_numbers, reserved_numbers

GIVEN = (
    "Alex",
    "Sam",
    "Jo",
    "Chris",
    "Robin",
    "Jamie",
    "Morgan",
    "Charlie",
    "Taylor",
    "Casey",
    "Jordan",
    "Riley",
    "Avery",
    "Rowan",
    "Quinn",
    "Ellis",
    "Frankie",
    "Harper",
    "Kit",
    "Remy",
)
FAMILY = (
    "Testperson",
    "Example",
    "Sample",
    "Placeholder",
    "Fictional",
    "Madeup",
    "Synthetic",
    "Dummy",
    "Notreal",
    "Pretend",
    "Imaginary",
    "Invented",
    "Mockley",
    "Fakeham",
    "Specimen",
)
STREETS = (
    "Nowhere Lane",
    "Example Road",
    "Fictional Street",
    "Test Avenue",
    "Sample Close",
    "Imaginary Way",
    "Invented Crescent",
    "Pretend Place",
)


def nhs_numbers(
    rng: np.random.Generator, *, span: tuple[int, int], population: int, block: tuple[int, int]
) -> pa.Array:
    """People span[0]..span[1]-1 get the numbers at those positions of NHS England's reserved
    test range (valid, never issued); a population larger than that range gets never-issued
    numbers that fail the check (block: the chunk's slice of them)."""
    if population <= TEST_RANGE_SIZE:
        return pa.array(reserved_numbers(np.arange(*span)), pa.string())
    return pa.array(never_issued_numbers(rng, span[1] - span[0], block=block), pa.string())


def _pick(rng: np.random.Generator, words: tuple[str, ...], n: int) -> pa.Array:
    return pa.array(np.array(words, dtype=object)[rng.integers(0, len(words), n)], pa.string())


def contacts(
    rng: np.random.Generator, *, span: tuple[int, int], population: int, block: tuple[int, int]
) -> dict[str, pa.Array]:
    """Fake identifiers for people span[0]..span[1]-1 of `population`, in person order."""
    n = span[1] - span[0]
    phone_tail = pc.utf8_lpad(pc.cast(pa.array(rng.integers(0, 1000, n)), pa.string()), 3, "0")
    phone = pc.binary_join_element_wise("01632 960", phone_tail, "")
    number = pc.cast(pa.array(rng.integers(1, 200, n)), pa.string())
    street = pc.binary_join_element_wise(number, _pick(rng, STREETS, n), " ")
    address = pc.binary_join_element_wise(street, "Testtown", ", ")
    return {
        "nhs_number": nhs_numbers(rng, span=span, population=population, block=block),
        "given_name": _pick(rng, GIVEN, n),
        "family_name": _pick(rng, FAMILY, n),
        "phone": phone,
        "address": address,
    }
