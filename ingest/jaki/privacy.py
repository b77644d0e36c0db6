"""Privacy at ingestion: keyed hashing of identifiers and personal-data detection in free text.

Identifiers are replaced by ``HMAC-SHA256(salt, id)`` (hex) before anything is stored; the salt
is a secret from settings (``PANTAU_SALT``), so the hashes cannot be reversed by brute-forcing the
(small) space of phone numbers without it. Free-text fields are dropped (set to NULL) when they
contain a phone number, a NIK (16-digit national id), an e-mail address or a name introduced by an
Indonesian honorific or "nama saya".
"""

from __future__ import annotations

import hashlib
import hmac

import polars as pl

PHONE_PATTERN = r"(?:\+?62|\b0)[\s.-]?8\d(?:[\s.-]?\d){6,11}"
NIK_PATTERN = r"\b\d{16}\b"
EMAIL_PATTERN = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
NAME_PATTERN = r"(?i:\b(?:nama\s+saya|saya|bapak|bpk|ibu|pak|bu|sdr|sdri|saudara|saudari|mas|mbak)\.?)\s+[A-Z][a-z]+"
PERSONAL_TEXT_PATTERN = "|".join(f"(?:{p})" for p in (PHONE_PATTERN, NIK_PATTERN, EMAIL_PATTERN, NAME_PATTERN))


class SaltError(ValueError):
    pass


def check_salt(salt: str | bytes) -> bytes:
    raw = salt.encode() if isinstance(salt, str) else bytes(salt)
    if len(raw) < 8:
        raise SaltError("the Jaki hashing salt must be a secret of at least 8 bytes (set PANTAU_SALT)")
    return raw


def hash_id(value: str, salt: str | bytes) -> str:
    """HMAC-SHA256 of one identifier, hex encoded."""
    return hmac.new(check_salt(salt), value.encode("utf-8"), hashlib.sha256).hexdigest()


def hash_series(values: pl.Series, salt: str | bytes) -> pl.Series:
    """Hash a column of identifiers; each distinct value is hashed once (users repeat a lot)."""
    key = check_salt(salt)
    uniq = values.drop_nulls().unique()
    # HMAC with the key pads absorbed once (RFC 2104), then one copy() per value: same digests as hmac.new
    base = hmac.new(key, digestmod=hashlib.sha256)
    digests = []
    for v in uniq.to_list():
        h = base.copy()
        h.update(v.encode("utf-8"))
        digests.append(h.hexdigest())
    if not digests:
        return pl.Series(values.name, [None] * len(values), dtype=pl.String)
    return values.replace_strict(uniq, pl.Series(digests, dtype=pl.String), default=None, return_dtype=pl.String)


def contains_personal_data(text: pl.Expr) -> pl.Expr:
    """True where a free-text value contains a phone number, NIK, e-mail or an introduced name."""
    return text.str.contains(PERSONAL_TEXT_PATTERN).fill_null(False)
