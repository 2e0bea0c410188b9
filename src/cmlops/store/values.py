"""JSON values every RFC 8785 verifier accepts: the tagged forms and canonical text.

RFC 8785 works on I-JSON (RFC 7493): numbers must be IEEE-754 doubles that
survive a round trip, so an integer beyond ±(2^53 − 1) is refused, a float of
2^53 or more is printed as digits that read back as such an integer, NaN and
infinity do not exist, and -0.0 prints as ``0``. Text must be valid Unicode.
A record holding any of these could be sealed but not re-verified by a third
party from its export. So, when a payload is sealed, each such value becomes a
*tagged string* (docs/audit-chain.md, "Values"):

* ``"cmlops:num:<text>"`` — a number outside I-JSON's exact range; ``<text>``
  is the decimal integer (``9007199254740993``) or the float as Python's
  shortest round trip prints it (``1e+16``, ``-0.0``, ``NaN``, ``Infinity``,
  ``-Infinity``);
* ``"cmlops:json:<JSON string>"`` — text with lone surrogates (e.g. a file name
  that is not UTF-8), as an ASCII JSON string literal with ``\\uXXXX`` escapes;
* ``"cmlops:str:<text>"`` — text that itself starts with one of these tags,
  so that decoding is never ambiguous.

Object keys are encoded like text. :func:`decode_value` reverses all of it.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from cmlops.errors import InvalidRecordError

NUMBER_TAG = "cmlops:num:"
JSON_TAG = "cmlops:json:"
STRING_TAG = "cmlops:str:"
_TAGS = (NUMBER_TAG, JSON_TAG, STRING_TAG)
_TAG_START = "cmlops:"
MAX_SAFE_INTEGER = 2**53 - 1
_FLOAT_LIMIT = 2.0**53
_INTEGER_TEXT = re.compile(r"-?[0-9]+")

#: ``_scan`` flags: json.dumps is not RFC 8785 (floats, non-ASCII keys) / values need tags
_NEEDS_JCS = 1
_NEEDS_TAGS = 2


def _needs_tag(text: str) -> bool:
    if text.startswith(_TAG_START) and text.startswith(_TAGS):
        return True
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True  # lone surrogate
    return False


def _float_needs_tag(value: float) -> bool:
    return (
        not math.isfinite(value)
        or abs(value) >= _FLOAT_LIMIT
        or (value == 0.0 and math.copysign(1.0, value) < 0)
    )


def _scan(value: Any, path: str) -> int:
    """Flags for ``value``; raises for what no JSON can hold (a set, a NumPy scalar ...)."""
    kind = type(value)
    if kind is str:
        return _NEEDS_TAGS if _needs_tag(value) else 0
    if value is None or kind is bool:
        return 0
    if kind is int:
        return 0 if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER else _NEEDS_TAGS
    if kind is float:
        return _NEEDS_TAGS if _float_needs_tag(value) else _NEEDS_JCS
    if isinstance(value, dict):
        flags = 0
        for key, item in value.items():
            if type(key) is not str:
                raise InvalidRecordError(f"{path} has a non-text key {key!r}: keys must be text")
            if not key.isascii():
                flags |= _NEEDS_JCS | (_NEEDS_TAGS if _needs_tag(key) else 0)
            elif key.startswith(_TAG_START) and key.startswith(_TAGS):
                flags |= _NEEDS_TAGS
            flags |= _scan(item, f"{path}.{key}")
        return flags
    if isinstance(value, (list, tuple)):
        flags = 0
        for index, item in enumerate(value):
            flags |= _scan(item, f"{path}[{index}]")
        return flags
    if isinstance(value, (str, int, float)):  # subclasses (IntEnum, numpy.float64, ...)
        return _scan(_plain_scalar(value), path) | _NEEDS_TAGS  # encode_value makes them plain
    raise InvalidRecordError(
        f"{path} is a {type(value).__name__}: use only dict, list, str, int, float, bool and "
        "None (convert NumPy and pandas values first)"
    )


def _plain_scalar(value: Any) -> Any:
    """The built-in str, int or float equal to a subclass instance (str() of an Enum lies)."""
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return int(value)
    return float(value)


def _float_text(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)


def _encode_text(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return JSON_TAG + json.dumps(text, ensure_ascii=True)
    if text.startswith(_TAGS):
        return STRING_TAG + text
    return text


def encode_value(value: Any) -> Any:
    """``value`` with every non-I-JSON number and unsafe text replaced by its tagged form."""
    kind = type(value)
    if kind is str:
        return _encode_text(value)
    if value is None or kind is bool:
        return value
    if kind is int:
        return value if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER else f"{NUMBER_TAG}{value}"
    if kind is float:
        return NUMBER_TAG + _float_text(value) if _float_needs_tag(value) else value
    if isinstance(value, dict):
        return {_encode_text(key): encode_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode_value(item) for item in value]
    if isinstance(value, (str, int, float)):
        return encode_value(_plain_scalar(value))
    return value


def _decode_text(text: str) -> Any:
    if not text.startswith(_TAG_START):
        return text
    if text.startswith(NUMBER_TAG):
        number = text[len(NUMBER_TAG) :]
        return int(number) if _INTEGER_TEXT.fullmatch(number) else float(number)
    if text.startswith(STRING_TAG):
        return text[len(STRING_TAG) :]
    if text.startswith(JSON_TAG):
        return json.loads(text[len(JSON_TAG) :])
    return text


def decode_value(value: Any) -> Any:
    """The original value of an encoded one (numbers, text and keys restored)."""
    if isinstance(value, str):
        return _decode_text(value)
    if isinstance(value, dict):
        return {_decode_text(key): decode_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decode_value(item) for item in value]
    return value


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _jcs(value: Any) -> str:
    import rfc8785

    try:
        return rfc8785.dumps(value).decode("utf-8")
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as error:
        raise InvalidRecordError(f"audit payload is not canonical JSON ({error})") from None


def canonical_text(value: Any, what: str = "value") -> str:
    """RFC 8785 canonical JSON text of any JSON value, unsafe values tagged first.

    ``json.dumps`` already gives the RFC 8785 form for text, booleans, null and
    integers within ±(2^53 − 1) under ASCII keys (code-point order equals JCS's
    UTF-16 order there); floats and non-ASCII keys go through ``rfc8785``.
    """
    flags = _scan(value, what)
    if flags & _NEEDS_TAGS:
        value = encode_value(value)
    if flags & _NEEDS_JCS:
        return _jcs(value)
    return _dumps(value)


def canonical_json(value: Any) -> bytes:
    """The one way to turn a value into the bytes a hash or signature covers.

    RFC 8785 (UTF-8) of ``value`` with every value I-JSON cannot carry
    exactly written as its tagged string, so that the bytes can be rebuilt
    from the JSON file that holds them with any RFC 8785 library.
    """
    return canonical_text(value).encode("utf-8")


def canonical_payload(payload: dict[str, Any]) -> str:
    """RFC 8785 canonical JSON text of a payload object, tagged values encoded."""
    if not isinstance(payload, dict):
        raise InvalidRecordError(
            f"audit payload must be a JSON object (dict), got {type(payload).__name__}"
        )
    return canonical_text(payload, "payload")


def recanonical_json(value: Any) -> bytes:
    """Canonical bytes of JSON read back from a file written with :func:`canonical_json`."""
    return reverify_canonical(value).encode("utf-8")


def reverify_canonical(value: Any) -> str:
    """Canonical text of a payload read back from an export, exactly as it was sealed.

    Nothing is tagged here (the export holds the sealed form). Records sealed
    before record format 2 may hold integers of 2^53 or more that were floats
    when sealed; their sealed text is the integer's digits, which RFC 8785
    libraries refuse to produce, so they are printed as such here.
    """
    flags = _scan_plain(value)
    if not flags & _NEEDS_JCS:
        return _dumps(value)
    big: list[int] = []

    def hide(item: Any) -> Any:
        if type(item) is int and not -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
            big.append(item)
            return f"\x00cmlops-int:{len(big) - 1}\x00"
        if isinstance(item, dict):
            return {key: hide(inner) for key, inner in item.items()}
        if isinstance(item, list):
            return [hide(inner) for inner in item]
        return item

    text = _jcs(hide(value))
    for index, number in enumerate(big):
        text = text.replace(f'"\\u0000cmlops-int:{index}\\u0000"', str(number), 1)
    return text


def _scan_plain(value: Any) -> int:
    """Like ``_scan`` for parsed JSON, without tagging (floats / non-ASCII keys need JCS)."""
    if isinstance(value, float):
        return _NEEDS_JCS
    if isinstance(value, dict):
        flags = 0
        for key, item in value.items():
            if not key.isascii():
                flags |= _NEEDS_JCS
            flags |= _scan_plain(item)
        return flags
    if isinstance(value, list):
        flags = 0
        for item in value:
            flags |= _scan_plain(item)
        return flags
    return 0
