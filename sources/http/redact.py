"""Secret redaction for options, headers, URLs and messages.

An option is secret when its name contains ``token``, ``secret``, ``password`` or ``key``
(case-insensitive), or is an ``Authorization`` header.

>>> redact_mapping({"access_token": "pat-123", "tableName": "contacts"})
{'access_token': '***', 'tableName': 'contacts'}
>>> redact_text("bad token pat-123", ["pat-123"])
'bad token ***'
"""

from __future__ import annotations

import re
from typing import Iterable, Mapping

MASK = "***"
_SECRET_WORDS = ("token", "secret", "password", "key", "authorization", "credential")


def is_secret_name(name: str) -> bool:
    """True when an option or header called ``name`` holds a secret."""
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def redact_mapping(values: Mapping[str, object]) -> dict[str, object]:
    """A copy of ``values`` with every secret-named entry masked."""
    return {k: (MASK if is_secret_name(str(k)) and v not in (None, "") else v) for k, v in values.items()}


def secret_values(values: Mapping[str, object]) -> list[str]:
    """The values of the secret-named entries of ``values`` (for :func:`redact_text`)."""
    return [str(v) for k, v in values.items() if is_secret_name(str(k)) and v not in (None, "")]


def redact_text(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret (and of ``Bearer <anything>``) masked."""
    for secret in sorted({s for s in secrets if s and len(s) >= 3}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return re.sub(r"(?i)(bearer\s+)[^\s'\",]+", r"\1" + MASK, text)
