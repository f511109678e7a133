"""A request body's JSON (chalicelib/api/rest.parse_json): refused with DRF's ParseError when it
nests too deep, measured without recursion and in one pass over the body, whatever it holds."""

from __future__ import annotations

import json

import pytest

from chalicelib.api.errors import HttpError
from chalicelib.api.rest import _JSON_TOKEN, MAX_JSON_DEPTH, parse_json


def refusal(raw: bytes) -> str:
    with pytest.raises(HttpError) as caught:
        parse_json(raw)
    assert caught.value.status == 400
    return str(caught.value.body["detail"])


def test_nesting_up_to_the_limit_is_parsed_and_one_more_level_is_refused():
    assert parse_json(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH) is not None
    deeper = MAX_JSON_DEPTH + 1
    assert refusal(b"[" * deeper + b"]" * deeper) == (
        f"JSON parse error - Nesting is deeper than {MAX_JSON_DEPTH} levels."
    )


def test_brackets_and_escaped_quotes_inside_strings_are_text():
    body = {"name": '[[[[{{{{\\"' * 50, "list": [[["x"]]]}
    assert parse_json(json.dumps(body).encode()) == body


def test_an_escaped_backslash_ends_before_the_closing_quote():
    deep = b"[" * 40 + b"]" * 40
    assert "deeper than" in refusal(b'{"x": "\\\\", "y": ' + deep + b"}")


def test_an_unterminated_string_is_one_token_to_the_end_of_the_body():
    # GIVEN a body that opens a string and then holds only escaped quotes: every later quote
    # could start a string that never ends. Were each of them tried again to the end, the scan
    # would be quadratic (a 100 KB body took 10 s, a megabyte minutes).
    body = b'{"a": "' + b'\\"' * 100_000
    # WHEN the scanner meets the string's opening quote, THEN its token runs to the end: no later
    # quote is scanned again
    opening = body.index(b'"', len(b'{"a":'))
    string = _JSON_TOKEN.match(body, opening)
    assert string is not None and string.end() == len(body)
    # and the body is refused as malformed JSON, not left hanging
    assert refusal(body).startswith("JSON parse error - ")
