"""Bank account numbers (银行账号): checked, stored encrypted at rest, found by a keyed digest,
shown masked to everyone but the unit's finance roles.

Keys come from settings, never from the database, so a dump of a tenant's schema holds no
readable number:

- ``FIELD_ENCRYPTION_KEY``: the current key (a long random string), required in any deployment
  (a development setup, with the development ``SECRET_KEY``, derives one from it);
  ``FIELD_ENCRYPTION_KEY_VERSION`` (1-255, default 1) is the byte every new ciphertext starts with.
- ``FIELD_ENCRYPTION_KEYS``: earlier keys, ``version:key`` comma-separated, to read what they
  sealed after a rotation.

Every key is derived per tenant (HKDF with the tenant's schema in ``info``) and the tenant is the
AES-GCM associated data, so a ciphertext or digest copied into another tenant's schema neither
decrypts nor matches there. The digest is an HMAC of the number with the tenant's digest key of
the lowest key version in the ring (it must stay stable, or duplicates would be missed after a
rotation): equal numbers give equal digests within a tenant, which is how a duplicate is refused
without decrypting every row.
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
from sqlalchemy.orm import Session

from propgroup.config import DEV_SECRET, get_settings
from propgroup.errors import InvalidInput, Unavailable

# Mainland account numbers run from 8 digits (some old settlement accounts) to 32 (virtual
# sub-accounts); spaces and hyphens are how people copy them from a bank form.
_SEPARATORS = re.compile(r"[\s-]+")
_DIGITS = re.compile(r"^[0-9]{8,32}$")
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


def _not_configured(message: str) -> Unavailable:
    return Unavailable(message, code="not_configured")


def keyring() -> tuple[int, dict[int, str]]:
    """The current key version and every key by version, from the environment."""
    secret = get_settings().secret_key
    current = os.environ.get("FIELD_ENCRYPTION_KEY")
    if not current:
        if secret != DEV_SECRET and not secret.startswith("dev-only"):
            raise _not_configured("FIELD_ENCRYPTION_KEY is not set: bank account numbers need it")
        current = secret  # development only: nothing real is sealed with it
    try:
        version = int(os.environ.get("FIELD_ENCRYPTION_KEY_VERSION", "1"))
        older = {
            int(number): key
            for number, key in (
                entry.split(":", 1)
                for entry in os.environ.get("FIELD_ENCRYPTION_KEYS", "").split(",")
                if entry.strip()
            )
        }
    except ValueError as exc:
        raise _not_configured("FIELD_ENCRYPTION_KEYS is version:key, comma-separated") from exc
    if not 1 <= version <= 255 or not all(1 <= number <= 255 for number in older):
        raise _not_configured("field encryption key versions are 1 to 255")
    return version, {**older, version: current}


@lru_cache(maxsize=64)
def _derived(secret: str, schema: str) -> tuple[bytes, bytes]:
    material = HKDF(
        algorithm=hashes.SHA256(),
        length=64,
        salt=None,
        info=f"propgroup bank account numbers/{schema}".encode(),
    ).derive(secret.encode())
    return material[:32], material[32:]


def _schema(session: Session) -> str:
    schema = session.info.get("tenant_schema")
    if not schema:
        raise RuntimeError("bank account numbers are sealed in a tenant's session")
    return schema


def encrypt(session: Session, number: str) -> bytes:
    version, keys = keyring()
    schema = _schema(session)
    nonce = os.urandom(12)
    sealed = AESGCM(_derived(keys[version], schema)[0]).encrypt(
        nonce, number.encode(), _AAD + b"/" + schema.encode()
    )
    return bytes([version]) + nonce + sealed


def decrypt(session: Session, stored: bytes) -> str:
    _, keys = keyring()
    schema = _schema(session)
    key = keys.get(stored[0]) if stored else None
    if key is None:
        raise ValueError("an account number sealed with a key not in the keyring")
    return (
        AESGCM(_derived(key, schema)[0])
        .decrypt(stored[1:13], stored[13:], _AAD + b"/" + schema.encode())
        .decode()
    )


def digest(session: Session, number: str) -> bytes:
    _, keys = keyring()
    key = _derived(keys[min(keys)], _schema(session))[1]
    return hmac.new(key, number.encode(), hashlib.sha256).digest()


def masked(last4: str | None) -> str | None:
    """What those who may not read the number see: its last four digits."""
    return None if last4 is None else f"****{last4}"
