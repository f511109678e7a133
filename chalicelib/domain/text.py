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

# What a name refuses, as the body of a regex character class: C0, DEL and C1 controls, bidi
# controls (surrogates come on top, below); a description keeps tab, line feed and carriage return.
# Written with `\uXXXX` escapes so that the same text is a class in Python's `re`, in ECMA-262 (the
# OpenAPI document's patterns, fields.py) and in the Rust engines validators use; surrogates are not
# in these two, because a Rust pattern cannot name them (a JSON string a validator has decoded
# holds none) and an ECMA one would bar the halves of every character outside the BMP.
REFUSED_IN_NAMES = r"\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069"
REFUSED_IN_LINES = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069"
SURROGATES = r"\ud800-\udfff"
# Every character Python calls whitespace (`str.isspace`, `\s` of Python's `re`). ECMA's `\s` and
# Rust's differ from it (and from each other), so patterns meant for every engine name these.
WHITESPACE = r"\u0009-\u000d\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# The whitespace a trim removes (DRF's `str.strip`, pydantic's `strip_whitespace`) that a name may
# hold inside it (the rest of Unicode's whitespace is refused above).
TRIMMED_SPACES = r"\u0020\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"

# What the validators and the schema's patterns say, from the classes above: a line (blank
# allowed), lines, and a name (something left after the trim).
LINE_PATTERN = f"^[^{REFUSED_IN_NAMES}]*$"
LINES_PATTERN = f"^[^{REFUSED_IN_LINES}]*$"
NAME_PATTERN = f"^[{TRIMMED_SPACES}]*[^{REFUSED_IN_NAMES}{TRIMMED_SPACES}][^{REFUSED_IN_NAMES}]*$"

_REFUSED = re.compile(f"[{REFUSED_IN_NAMES}{SURROGATES}]")
_REFUSED_IN_LINES = re.compile(f"[{REFUSED_IN_LINES}{SURROGATES}]")


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
