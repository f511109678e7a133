"""What a name or a text that people type may hold.

Django REST framework's CharField trims surrounding whitespace, refuses a value left blank, a NUL
("Null characters are not allowed.") and a lone surrogate. Cirrus also refuses every other control
character (C0, DEL, C1: they corrupt logs, mails and terminals) and the bidirectional embeddings,
overrides and isolates (U+202A to U+202E, U+2066 to U+2069: they make a name display as something else,
the "Trojan Source" trick). The bidi marks (U+200E, U+200F, U+061C) and the zero-width joiners stay
allowed: they cannot reorder text beyond the neutrals next to them, and right-to-left scripts,
Indic scripts and emoji need them. Multi-line text (descriptions) may also hold tabs and line breaks.
"""

from __future__ import annotations

import re

NULL_CHARACTER = "Null characters are not allowed."
CONTROL_CHARACTER = "Control characters are not allowed."
BIDI_CHARACTER = "Bidirectional override characters are not allowed."
SURROGATE_CHARACTER = "Surrogate characters are not allowed: U+{:X}."

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

# What a name refuses: C0, DEL and C1 controls, bidi controls, surrogates; a description keeps
# tab, line feed and carriage return.
_REFUSED = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_REFUSED_IN_LINES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why `value` may not be stored as a name (or, `multiline`, as a description), or None."""
    found = (_REFUSED_IN_LINES if multiline else _REFUSED).search(value)
    if found is None:
        return None
    if "\x00" in value:
        return NULL_CHARACTER
    char = found.group()
    if char in BIDI_CONTROLS:
        return BIDI_CHARACTER
    if "\ud800" <= char <= "\udfff":
        return SURROGATE_CHARACTER.format(ord(char))
    return CONTROL_CHARACTER
