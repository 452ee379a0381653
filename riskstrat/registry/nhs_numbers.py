"""NHS numbers: the modulus-11 check digit, and numbers no real person can have.

Two kinds of safe number, for data that is not real:
- the range NHS England reserves for test data, 999 000 0000 to 999 999 9999: valid check
  digits, never issued. The synthetic generator uses it, so its extract passes ingest's
  `nhs_check_digit` rule as a real one does and a failing number means a real slip;
- numbers whose check digit would be 10, which the NHS never issues: they fail the check by
  construction. For placeholders (OMOP holds no identifiers) and for a synthetic population
  larger than the test range (TEST_RANGE_SIZE), where ingest then says once that the column
  fails.
The SQL form of the check is riskstrat.registry.validate.nhs_check_digit.
"""

from __future__ import annotations

from functools import cache

import numpy as np

WEIGHTS = np.arange(10, 1, -1)  # weights 10..2 for the first nine digits
TEST_RANGE_FIRST_NINE = (999_000_000, 1_000_000_000)  # 999 000 000x to 999 999 999x
SHUFFLE_SEED = 999  # one fixed order of the test range, so chunks of a population never clash


def check_digits(first_nine: np.ndarray) -> np.ndarray:
    """The modulus-11 check digit of each row of nine digits (10: no valid number exists)."""
    remainder = (first_nine * WEIGHTS).sum(axis=1) % 11
    return np.where(remainder == 0, 0, 11 - remainder)


def digits_of(first_nine: np.ndarray) -> np.ndarray:
    """Nine-digit integers as rows of their digits."""
    return (first_nine[:, None] // 10 ** np.arange(8, -1, -1)) % 10


def is_valid(number: str) -> bool:
    """True when a 10-digit string passes the NHS modulus-11 check."""
    if len(number) != 10 or not number.isdigit():
        return False
    check = int(check_digits(np.array([[int(c) for c in number[:9]]]))[0])
    return check != 10 and check == int(number[9])


@cache
def _test_range() -> np.ndarray:
    """Every valid number of the reserved test range, as integers, in one fixed shuffled order."""
    first_nine = np.arange(*TEST_RANGE_FIRST_NINE, dtype=np.int64)
    check = check_digits(digits_of(first_nine))
    valid = first_nine[check != 10] * 10 + check[check != 10]
    return np.random.default_rng(SHUFFLE_SEED).permutation(valid)


TEST_RANGE_SIZE = 909_091  # valid numbers in the test range (checked by the tests)


def reserved_numbers(positions: np.ndarray) -> list[str]:
    """The numbers at `positions` (0 .. TEST_RANGE_SIZE - 1) of the shuffled test range: person
    i of a population gets position i, so any split of it into chunks gives distinct numbers."""
    return [str(v) for v in _test_range()[positions]]


def never_issued_numbers(
    rng: np.random.Generator, n: int, *, block: tuple[int, int] = (0, 1)
) -> list[str]:
    """`n` distinct numbers starting 9 (not 999) that fail the check: a wrong last digit, or any
    last digit after a check digit of 10. block (i, k): the i-th of k equal slices of the space,
    so chunks of one population never share a number."""
    i, k = block
    width = 99_000_000 // k
    first_nine = 900_000_000 + i * width + rng.choice(width, n, replace=False)
    check = check_digits(digits_of(first_nine))
    wrong = (check + rng.integers(1, 10, n)) % 10  # any digit but the right one
    last = np.where(check == 10, rng.integers(0, 10, n), wrong)
    return [str(v) for v in first_nine * 10 + last]
