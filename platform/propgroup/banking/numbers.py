"""Bank account numbers (银行账号): checked, stored encrypted at rest, found by a keyed digest,
shown masked to everyone but the unit's finance roles.

The key comes from settings (``FIELD_ENCRYPTION_KEY``, else derived from ``SECRET_KEY``), never
from the database, so a dump of the tenant's schema holds no readable number. The digest is an
HMAC of the number: equal numbers give equal digests, which is how a duplicate is refused
without decrypting every row, and it reveals nothing without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from propgroup.config import get_settings
from propgroup.errors import InvalidInput

# Mainland account numbers run from 8 digits (some old settlement accounts) to 32 (virtual
# sub-accounts); spaces and hyphens are how people copy them from a bank form.
_SEPARATORS = re.compile(r"[\s-]+")
_DIGITS = re.compile(r"^[0-9]{8,32}$")
_VERSION = b"\x01"  # the first byte of every ciphertext names its key, for a later rotation
_AAD = b"bank_accounts.number"


def checked_number(raw: object) -> str:
    """The number as digits only; InvalidInput saying what is wrong with a malformed one."""
    number = _SEPARATORS.sub("", raw) if isinstance(raw, str) else ""
    if not _DIGITS.match(number):
        raise InvalidInput(
            "an account number is 8 to 32 digits (spaces and hyphens are ignored)",
            code="bad_account_number",
            errors={"number": ["8 to 32 digits"]},
        )
    return number


@lru_cache(maxsize=4)
def _keys(secret: str) -> tuple[bytes, bytes]:
    material = HKDF(
        algorithm=hashes.SHA256(), length=64, salt=None, info=b"propgroup bank account numbers"
    ).derive(secret.encode())
    return material[:32], material[32:]


def _current_keys() -> tuple[bytes, bytes]:
    return _keys(os.environ.get("FIELD_ENCRYPTION_KEY") or get_settings().secret_key)


def encrypt(number: str) -> bytes:
    nonce = os.urandom(12)
    return _VERSION + nonce + AESGCM(_current_keys()[0]).encrypt(nonce, number.encode(), _AAD)


def decrypt(stored: bytes) -> str:
    if stored[:1] != _VERSION:
        raise ValueError("an account number sealed with an unknown key version")
    return AESGCM(_current_keys()[0]).decrypt(stored[1:13], stored[13:], _AAD).decode()


def digest(number: str) -> bytes:
    return hmac.new(_current_keys()[1], number.encode(), hashlib.sha256).digest()


def masked(last4: str | None) -> str | None:
    """What those who may not read the number see: its last four digits."""
    return None if last4 is None else f"****{last4}"
