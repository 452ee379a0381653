"""Obviously fake identifiers for the contacts table.

NHS numbers are 10 digits that FAIL the modulus-11 check (so no real NHS number can appear),
phone numbers are in Ofcom's drama range (01632 960000-960999), names and streets are invented.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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
NHS_WEIGHTS = np.arange(10, 1, -1)  # weights 10..2 for the first nine digits


def nhs_check_digit(first_nine: np.ndarray) -> np.ndarray:
    """The modulus-11 check digit for rows of nine digits (10 means no valid number exists)."""
    remainder = (first_nine * NHS_WEIGHTS).sum(axis=1) % 11
    check = 11 - remainder
    return np.where(check == 11, 0, check)


def is_valid_nhs_number(number: str) -> bool:
    """True when a 10-digit string passes the NHS modulus-11 check."""
    if len(number) != 10 or not number.isdigit():
        return False
    digits = np.array([[int(c) for c in number]])
    check = int(nhs_check_digit(digits[:, :9])[0])
    return check != 10 and check == int(number[9])


def fake_nhs_numbers(
    rng: np.random.Generator, n: int, *, block: tuple[int, int] = (0, 1)
) -> pa.Array:
    """Unique 10-digit numbers starting 9 whose last digit fails the modulus-11 check.

    block (i, k): draw from the i-th of k equal slices of the number space, so chunks of one
    population never share a number."""
    i, k = block
    width = 100_000_000 // k
    body = 900_000_000 + i * width + rng.choice(width, n, replace=False)
    digits = (body[:, None] // 10 ** np.arange(8, -1, -1)) % 10
    check = nhs_check_digit(digits)
    wrong = (check + rng.integers(1, 10, n)) % 10  # any digit but the right one
    last = np.where(check == 10, rng.integers(0, 10, n), wrong)
    return pc.cast(pa.array(body * 10 + last), pa.string())


def _pick(rng: np.random.Generator, words: tuple[str, ...], n: int) -> pa.Array:
    return pa.array(np.array(words, dtype=object)[rng.integers(0, len(words), n)], pa.string())


def contacts(
    rng: np.random.Generator, n: int, *, block: tuple[int, int] = (0, 1)
) -> dict[str, pa.Array]:
    """Fake identifiers for n people, in person order (block: see fake_nhs_numbers)."""
    phone_tail = pc.utf8_lpad(pc.cast(pa.array(rng.integers(0, 1000, n)), pa.string()), 3, "0")
    phone = pc.binary_join_element_wise("01632 960", phone_tail, "")
    number = pc.cast(pa.array(rng.integers(1, 200, n)), pa.string())
    street = pc.binary_join_element_wise(number, _pick(rng, STREETS, n), " ")
    address = pc.binary_join_element_wise(street, "Testtown", ", ")
    return {
        "nhs_number": fake_nhs_numbers(rng, n, block=block),
        "given_name": _pick(rng, GIVEN, n),
        "family_name": _pick(rng, FAMILY, n),
        "phone": phone,
        "address": address,
    }
