"""Practice codes the adapters make from source identifiers.

Every code must pass ingest's practice-code rule (the contract's PRACTICE_CODE_PATTERN: 2-12
upper-case letters or digits) and be stable: the same source identifier gives the same code in
every import, so one practice's lists, feedback and outcomes stay together over time.
"""

from __future__ import annotations

import hashlib
import re

import pandas as pd

#: The contract's upper bound on a practice code's length (PRACTICE_CODE_PATTERN).
MAX_LENGTH = 12
#: Marks a hashed code. A readable code is prefix + an identifier that does not start with it, so
#: a hashed code (prefix + HASH_MARK + base-36 digest) can never equal a readable one.
HASH_MARK = "X"
_BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
BAD_PREFIX = "practice code prefix {prefix!r} must be 1-3 upper-case letters other than X"
CODE_CLASH = "{source}: two identifiers ({first}, {second}) share the practice code {code}"


def _hashed(prefix: str, ident: str) -> str:
    number = int.from_bytes(hashlib.blake2b(ident.encode(), digest_size=16).digest(), "big")
    digits = []
    for _ in range(MAX_LENGTH - len(prefix) - len(HASH_MARK)):
        number, rest = divmod(number, 36)
        digits.append(_BASE36[rest])
    return prefix + HASH_MARK + "".join(reversed(digits))


def practice_codes(prefix: str, ids: pd.Series, *, source: str) -> pd.Series:
    """prefix + the identifier when the identifier is upper-case letters/digits (not starting with
    HASH_MARK) and the code is at most MAX_LENGTH long (e.g. care_site_id 10 -> CS10); otherwise
    prefix + HASH_MARK + a base-36 digest of the identifier, MAX_LENGTH long. Missing identifiers
    stay missing; two identifiers sharing a code (a digest collision) is an error naming
    `source`."""
    if not re.fullmatch(r"[A-WYZ][A-Z]{0,2}", prefix):
        raise ValueError(BAD_PREFIX.format(prefix=prefix))
    text = ids.astype("str").where(ids.notna())
    readable = (
        text.str.fullmatch(r"[0-9A-Z]+").fillna(False).astype(bool)
        & ~text.str.startswith(HASH_MARK).fillna(False).astype(bool)
        & (text.str.len() + len(prefix)).le(MAX_LENGTH).fillna(False).astype(bool)
    )
    hashed = text.map(lambda ident: _hashed(prefix, ident), na_action="ignore")
    codes = (prefix + text).where(readable, hashed).where(ids.notna()).astype("str")
    pairs = pd.DataFrame({"id": text, "code": codes}).dropna().drop_duplicates()
    clash = pairs[pairs["code"].duplicated(keep=False)]
    if len(clash):
        first, second = clash["id"].iloc[0], clash["id"].iloc[1]
        raise ValueError(
            CODE_CLASH.format(source=source, first=first, second=second, code=clash["code"].iloc[0])
        )
    return codes
