"""The token format: generate, parse and digest. The only module that hashes a raw token.

A token is ``<prefix>_<43 base62 random><6 base62 CRC32>``. The checksum lets us reject typos
and garbage without a query and lets secret scanners recognise leaked tokens.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import string
import zlib

from auth_token.conf import settings

ALPHABET = string.digits + string.ascii_uppercase + string.ascii_lowercase
RANDOM_LENGTH = 43  # 43 * log2(62) > 256 bits
CHECKSUM_LENGTH = 6  # 62**6 > 2**32
DIGEST_VERSION = "1"
MAX_PREFIX_LENGTH = 10
PREFIX_PATTERN = re.compile(rf"[a-z][a-z0-9]{{0,{MAX_PREFIX_LENGTH - 1}}}")  # KEY_PREFIX (check E001)
DEVICE_SUFFIX = "d"
# A token's prefix, or a device secret's: KEY_PREFIX followed by DEVICE_SUFFIX.
MAX_ISSUED_PREFIX_LENGTH = MAX_PREFIX_LENGTH + len(DEVICE_SUFFIX)
_ISSUED_PREFIX = rf"[a-z][a-z0-9]{{0,{MAX_ISSUED_PREFIX_LENGTH - 1}}}"
LEGACY_DIGEST_VERSION = "drf"
_LEGACY = re.compile(r"[0-9a-f]{40}")
# Any prefix, not only the current one: tokens and device secrets issued before a change of
# KEY_PREFIX keep working (the digest covers the whole token, prefix included).
_TOKEN = re.compile(rf"{_ISSUED_PREFIX}_[0-9A-Za-z]{{{RANDOM_LENGTH + CHECKSUM_LENGTH}}}")


def checksum(text: str) -> str:
    """Return the base62 CRC32 of ``text``, left-padded to six characters."""
    number = zlib.crc32(text.encode("ascii"))  # < 62**6: six digits, unrolled (every request)
    number, d5 = divmod(number, 62)
    number, d4 = divmod(number, 62)
    number, d3 = divmod(number, 62)
    number, d2 = divmod(number, 62)
    d0, d1 = divmod(number, 62)
    return ALPHABET[d0] + ALPHABET[d1] + ALPHABET[d2] + ALPHABET[d3] + ALPHABET[d4] + ALPHABET[d5]


def token_prefix() -> str:
    return settings.KEY_PREFIX


def device_prefix() -> str:
    return settings.KEY_PREFIX + DEVICE_SUFFIX


def generate(prefix: str | None = None) -> str:
    """Return a new raw token (256 bits from ``secrets``) with its checksum."""
    prefix = token_prefix() if prefix is None else prefix
    body = f"{prefix}_{''.join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))}"
    return body + checksum(body)


def is_well_formed(value: object) -> bool:
    """Return whether ``value`` is a token or device secret of ours: format and checksum.

    Cheap and query-free: anything this rejects never reaches the database.
    """
    if not isinstance(value, str) or not _TOKEN.fullmatch(value):  # the pattern bounds the length
        return False
    return secrets.compare_digest(checksum(value[:-CHECKSUM_LENGTH]), value[-CHECKSUM_LENGTH:])


def digest(raw: str) -> str:
    """Return the stored form of a raw token: ``<version>$<sha256 hex>``."""
    return f"{DIGEST_VERSION}${hashlib.sha256(raw.encode()).hexdigest()}"


def legacy_digest(raw: str) -> str:
    """Return the stored form of a token imported from DRF's authtoken (40 hex characters)."""
    return f"{LEGACY_DIGEST_VERSION}${hashlib.sha256(raw.encode()).hexdigest()}"


def is_legacy_digest(stored: str) -> bool:
    """Return whether a stored digest is of a key imported from DRF's authtoken."""
    return stored.startswith(LEGACY_DIGEST_VERSION + "$")


def is_legacy_token(value: str) -> bool:
    return _LEGACY.fullmatch(value) is not None
