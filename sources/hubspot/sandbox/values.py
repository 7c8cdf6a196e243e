"""Value helpers: HubSpot timestamps, property value normalization and typed comparison."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_INT_RE = re.compile(r"^-?\d+$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def format_ms(ms: int) -> str:
    """Epoch milliseconds -> ``2024-03-05T10:11:12.345Z``."""
    moment = _EPOCH + dt.timedelta(milliseconds=int(ms))
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def format_date(ms: int) -> str:
    return (_EPOCH + dt.timedelta(milliseconds=int(ms))).strftime("%Y-%m-%d")


def parse_ms(value: Any) -> int | None:
    """Epoch ms from an int, a digit string, an ISO-8601 datetime or a ``YYYY-MM-DD`` date."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    text = str(value).strip()
    if not text:
        return None
    if _INT_RE.match(text):
        return int(text)
    if _DATE_RE.match(text):
        try:
            day = dt.datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=dt.timezone.utc)
        except ValueError:
            return None
        return int((day - _EPOCH).total_seconds() * 1000)
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    delta = moment - _EPOCH
    return delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000


class InvalidValue(ValueError):
    """A property value HubSpot would reject; ``code`` is HubSpot's error code."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def to_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def normalize(definition: dict[str, Any], value: Any) -> str | None:
    """Validate and normalize a written value the way HubSpot stores it (always a string)."""
    text = to_text(value)
    if text is None or text == "":
        return "" if text == "" else None
    kind = definition["type"]
    name = definition["name"]
    if kind == "number":
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise InvalidValue("INVALID_DECIMAL", f'{text} was not a valid number for property "{name}"') from None
        if not number.is_finite():
            raise InvalidValue("INVALID_DECIMAL", f'{text} was not a valid number for property "{name}"')
        return text
    if kind == "bool":
        lowered = text.lower()
        if lowered not in ("true", "false"):
            raise InvalidValue("INVALID_BOOLEAN", f'{text} was not a valid boolean for property "{name}"')
        return lowered
    if kind == "datetime":
        ms = parse_ms(text)
        if ms is None:
            raise InvalidValue("INVALID_DATETIME", f'{text} was not a valid datetime for property "{name}"')
        return format_ms(ms)
    if kind == "date":
        ms = parse_ms(text)
        if ms is None:
            raise InvalidValue("INVALID_DATE", f'{text} was not a valid date for property "{name}"')
        if ms % 86_400_000 != 0:
            raise InvalidValue(
                "INVALID_DATE",
                f'{text} is at {format_ms(ms)}, which is not midnight, for the date property "{name}"',
            )
        return format_date(ms)
    if kind == "enumeration" and not definition.get("externalOptions"):
        allowed = {o["value"] for o in definition.get("options", [])}
        chosen = text.split(";") if definition.get("fieldType") == "checkbox" else [text]
        for item in chosen:
            if item not in allowed:
                raise InvalidValue(
                    "INVALID_OPTION",
                    f'{item} was not one of the allowed options: {[o for o in sorted(allowed)]} for property "{name}"',
                )
        return text
    return text


def sort_key(kind: str, value: Any):
    """A comparable key for a stored or filter value of a property type (None when empty or
    not convertible)."""
    if value is None:
        return None
    text = to_text(value)
    if text is None or text == "":
        return None
    if kind == "number":
        try:
            return Decimal(text)
        except InvalidOperation:
            return None
    if kind in ("datetime", "date"):
        return parse_ms(text)
    return text.lower()
