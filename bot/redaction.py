"""Removing personal data from a citizen's message before it is stored, logged or read by anyone.

Finnish personal identity codes (every century sign, checksum verified), phone
numbers (Finnish and international), e-mail addresses and IBANs (ISO 7064 MOD-97
verified) are replaced by typed placeholders such as ``[hetu]``. The rules follow
``shared/spec/facts.md``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

#: Placeholder written in place of each kind of personal data.
PLACEHOLDERS: Final = {"hetu": "[hetu]", "phone": "[phone]", "email": "[email]", "iban": "[iban]"}

_CHECK_CHARACTERS: Final = "0123456789ABCDEFHJKLMNPRSTUVWXY"
_CENTURIES: Final = {
    "+": 1800,
    **dict.fromkeys("-YXWVU", 1900),
    **dict.fromkeys("ABCDEF", 2000),
}
# '-' first in the character class, so it is a literal and not a range (facts.md).
_HETU: Final = re.compile(r"(?<![\w])(\d{2})(\d{2})(\d{2})([-+A-FU-Ya-fu-y])(\d{3})([0-9A-Ya-y])(?![\w])")
_EMAIL: Final = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_IBAN: Final = re.compile(r"(?<![\w])([A-Za-z]{2})(\d{2})((?:[ ]?[A-Za-z0-9]){11,30})(?![\w])")
_IBAN_LENGTHS: Final = {"FI": 18, "AX": 18, "SE": 24, "NO": 15, "DK": 18, "EE": 20, "DE": 22, "GB": 22, "FR": 27}
# A phone number: "+" or "00" and a country code, or a leading 0; digits in groups separated by
# single spaces or hyphens, optionally an area code in parentheses.
_PHONE: Final = re.compile(
    r"(?<![\w+])(?:\+|00)\d{1,3}(?:[ -]?\(?\d{1,4}\)?)(?:[ -]?\d{1,4}){1,5}(?![\w])"
    r"|(?<![\w+])\(?0\d{1,3}\)?(?:[ -]?\d{2,4}){1,4}(?![\w])"
)


@dataclass(frozen=True, slots=True)
class Redacted:
    """A message with personal data removed, and which kinds were removed."""

    text: str
    kinds: tuple[str, ...]

    @property
    def changed(self) -> bool:
        """Whether anything was removed."""
        return bool(self.kinds)


def hetu_is_valid(code: str) -> bool:
    """Whether a personal identity code has a real date and the right check character."""
    match = _HETU.fullmatch(code.strip())
    if not match:
        return False
    day, month, year, sign, individual, check = match.groups()
    try:
        dt.date(_CENTURIES[sign.upper()] + int(year), int(month), int(day))
    except ValueError:
        return False
    if individual in ("000", "001"):
        return False
    return _CHECK_CHARACTERS[int(day + month + year + individual) % 31] == check.upper()


def iban_is_valid(iban: str) -> bool:
    """Whether an IBAN has the right length for its country (where known) and passes MOD-97."""
    compact = iban.replace(" ", "").upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", compact):
        return False
    expected = _IBAN_LENGTHS.get(compact[:2])
    if expected is not None and len(compact) != expected:
        return False
    rearranged = compact[4:] + compact[:4]
    digits = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(digits) % 97 == 1


def _phone_digits_ok(candidate: str) -> bool:
    digits = re.sub(r"\D", "", candidate)
    if candidate.startswith(("+", "00")):
        return 7 <= len(digits) - (2 if candidate.startswith("00") else 0) <= 15
    return 7 <= len(digits) <= 12


def redact(text: str) -> Redacted:
    """Replace personal data with typed placeholders; e-mail and IBAN first, since they hold digit runs."""
    kinds: list[str] = []
    if "@" not in text and not any(character.isdigit() for character in text):
        return Redacted(text, ())  # every kind of personal data here has a digit or an "@"
    for kind, pattern, valid in _RULES:

        def replace(match: re.Match[str], kind: str = kind, valid: Callable[[str], bool] = valid) -> str:
            if not valid(match.group(0)):
                return match.group(0)
            kinds.append(kind)
            return PLACEHOLDERS[kind]

        text = pattern.sub(replace, text)
    return Redacted(text, tuple(kinds))


_RULES: Final[tuple[tuple[str, re.Pattern[str], Callable[[str], bool]], ...]] = (
    ("email", _EMAIL, lambda _: True),
    ("iban", _IBAN, iban_is_valid),
    ("hetu", _HETU, hetu_is_valid),
    ("phone", _PHONE, _phone_digits_ok),
)
