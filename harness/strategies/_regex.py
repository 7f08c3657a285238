"""Regexes to generators, both exact by construction: a Hypothesis strategy and a fast seeded function.

Strategy: whole runs of a character class become one ``st.text`` draw (cheap, and it shrinks). ``st.from_regex``
draws character by character and tracks groups, which dominates generation time for ID-heavy schemas; patterns
this module cannot build exactly (backreferences, lookarounds, word boundaries) go to it instead.
Seeded: runs of a character class are ``rng.randbytes`` translated through a table, for the volume generator.
"""

from __future__ import annotations

import random
import re
import re._parser as sre_parse  # type: ignore[import-not-found]  # the standard library's own regex parser
import string
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from hypothesis import strategies as st

__all__ = ["SeededGen", "UnsupportedPattern", "regex_strategy", "seeded_regex"]

_PRINTABLE = "".join(chr(c) for c in range(0x20, 0x7F))
_CATEGORIES = {  # ASCII members of each class: a subset, so every string built still matches
    sre_parse.CATEGORY_DIGIT: string.digits,
    sre_parse.CATEGORY_WORD: string.ascii_letters + string.digits + "_",
    sre_parse.CATEGORY_SPACE: " ",
    sre_parse.CATEGORY_NOT_DIGIT: "".join(c for c in _PRINTABLE if not c.isdigit()),
    sre_parse.CATEGORY_NOT_WORD: "".join(c for c in _PRINTABLE if not (c.isalnum() or c == "_")),
    sre_parse.CATEGORY_NOT_SPACE: "".join(c for c in _PRINTABLE if c != " "),
}
_ANCHORS = {sre_parse.AT_BEGINNING, sre_parse.AT_BEGINNING_STRING, sre_parse.AT_END, sre_parse.AT_END_STRING}
_OPEN_REPEAT = 8  # how far past its minimum an unbounded repeat (``*``, ``+``, ``{n,}``) may go
_MAX_REPEAT_SPAN = 256  # how far past its minimum a bounded repeat may go: ``a{0,1000000000}`` stays small


def _top(low: int, high: int) -> int:
    """The most repetitions to generate for ``{low,high}``."""
    if high is sre_parse.MAXREPEAT:
        return low + _OPEN_REPEAT
    return min(high, low + _MAX_REPEAT_SPAN)


class UnsupportedPattern(Exception):
    """A construct these builders do not handle exactly."""


def _charset(items: list[tuple[Any, Any]]) -> str:
    negate = False
    chars: set[str] = set()
    for op, arg in items:
        if op is sre_parse.NEGATE:
            negate = True
        elif op is sre_parse.LITERAL:
            chars.add(chr(arg))
        elif op is sre_parse.RANGE:
            low, high = arg
            if high - low > 0x2000:
                chars.update(c for c in _PRINTABLE if low <= ord(c) <= high)
            else:
                chars.update(chr(c) for c in range(low, high + 1))
        elif op is sre_parse.CATEGORY and arg in _CATEGORIES:
            chars.update(_CATEGORIES[arg])
        else:
            raise UnsupportedPattern(op)
    pool = [c for c in _PRINTABLE if c not in chars] if negate else sorted(chars)
    if not pool:
        raise UnsupportedPattern("empty class")
    return "".join(pool)


def _single(op: Any, arg: Any) -> str | None:
    """The alphabet of a one-character node, or None when the node is not one character."""
    if op is sre_parse.LITERAL:
        return chr(arg)
    if op is sre_parse.NOT_LITERAL:
        return "".join(c for c in _PRINTABLE if ord(c) != arg)
    if op is sre_parse.ANY:
        return _PRINTABLE
    if op is sre_parse.IN:
        return _charset(arg)
    return None


def _join(parts: list[st.SearchStrategy[str]]) -> st.SearchStrategy[str]:
    if not parts:
        return st.just("")
    if len(parts) == 1:
        return parts[0]
    return st.tuples(*parts).map("".join)


def _sequence(parsed: Any) -> st.SearchStrategy[str]:
    parts: list[st.SearchStrategy[str]] = []
    literal = ""
    for op, arg in parsed:
        if op is sre_parse.LITERAL:
            literal += chr(arg)
            continue
        if literal:
            parts.append(st.just(literal))
            literal = ""
        if op is sre_parse.AT:
            if arg not in _ANCHORS:
                raise UnsupportedPattern(arg)
            continue
        parts.append(_node(op, arg))
    if literal:
        parts.append(st.just(literal))
    return _join(parts)


def _node(op: Any, arg: Any) -> st.SearchStrategy[str]:
    alphabet = _single(op, arg)
    if alphabet is not None:
        return st.sampled_from(alphabet) if len(alphabet) > 1 else st.just(alphabet)
    if op is sre_parse.SUBPATTERN:
        return _sequence(arg[-1])
    if op is sre_parse.BRANCH:
        return st.one_of([_sequence(branch) for branch in arg[1]])
    if op in (sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT, getattr(sre_parse, "POSSESSIVE_REPEAT", None)):
        low, high, sub = arg
        top = _top(low, high)
        items = list(sub)
        if len(items) == 1:
            one = _single(*items[0])
            if one is not None:
                return st.text(alphabet=one, min_size=low, max_size=top)
        inner = _sequence(sub)
        return st.lists(inner, min_size=low, max_size=top).map("".join)
    raise UnsupportedPattern(op)


@lru_cache(maxsize=1024)
def regex_strategy(pattern: str) -> st.SearchStrategy[str]:
    """Strings that ``re.fullmatch`` ``pattern``, printable ASCII only."""
    compiled = re.compile(pattern)
    try:
        return _sequence(sre_parse.parse(pattern))
    except UnsupportedPattern:
        alphabet = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
        return st.from_regex(compiled, fullmatch=True, alphabet=alphabet)


SeededGen = Callable[[random.Random], str]


def _table(alphabet: str) -> bytes:
    """A 256-byte translation table spreading random bytes over ``alphabet`` (ASCII only)."""
    repeated = alphabet * (256 // len(alphabet) + 1)
    return bytes(repeated[:256], "ascii")


def _seeded_run(alphabet: str, low: int, high: int) -> SeededGen:
    span = high - low + 1
    size = len(alphabet)
    if not alphabet.isascii():
        return lambda rng: "".join(rng.choices(alphabet, k=low + int(rng.random() * span)))
    if size == 1:
        fixed = alphabet * low
        return (lambda rng: fixed) if span == 1 else (lambda rng: alphabet * (low + int(rng.random() * span)))
    if low == high == 1:
        return lambda rng: alphabet[int(rng.random() * size)]
    table = _table(alphabet)
    if span == 1:
        bits = 8 * low
        return lambda rng: rng.getrandbits(bits).to_bytes(low, "little").translate(table).decode("ascii")

    def run(rng: random.Random) -> str:
        count = low + int(rng.random() * span)
        return rng.getrandbits(8 * count).to_bytes(count, "little").translate(table).decode("ascii")

    return run


def _seeded_sequence(parsed: Any) -> SeededGen:
    template = ""  # literal text with %s where a generated part goes
    gens: list[SeededGen] = []
    for op, arg in parsed:
        if op is sre_parse.AT:
            if arg not in _ANCHORS:
                raise UnsupportedPattern(arg)
        elif op is sre_parse.LITERAL:
            template += chr(arg).replace("%", "%%")
        else:
            template += "%s"
            gens.append(_seeded_node(op, arg))
    if not gens:
        text = template.replace("%%", "%")
        return lambda rng: text
    if template == "%s":
        return gens[0]
    if len(gens) == 1:
        only = gens[0]
        return lambda rng: template % only(rng)
    return lambda rng: template % tuple([gen(rng) for gen in gens])


def _seeded_node(op: Any, arg: Any) -> SeededGen:
    alphabet = _single(op, arg)
    if alphabet is not None:
        return _seeded_run(alphabet, 1, 1)
    if op is sre_parse.SUBPATTERN:
        return _seeded_sequence(arg[-1])
    if op is sre_parse.BRANCH:
        options = [_seeded_sequence(branch) for branch in arg[1]]
        count = len(options)
        return lambda rng: options[int(rng.random() * count)](rng)
    if op in (sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT, getattr(sre_parse, "POSSESSIVE_REPEAT", None)):
        low, high, sub = arg
        top = _top(low, high)
        items = list(sub)
        if len(items) == 1:
            one = _single(*items[0])
            if one is not None:
                return _seeded_run(one, low, top)
        inner = _seeded_sequence(sub)
        span = top - low + 1
        return lambda rng: "".join([inner(rng) for _ in range(low + int(rng.random() * span))])
    raise UnsupportedPattern(op)


@lru_cache(maxsize=1024)
def seeded_regex(pattern: str) -> SeededGen:
    """A function ``rng -> str`` whose results fully match ``pattern``; UnsupportedPattern where it can't be exact."""
    re.compile(pattern)
    return _seeded_sequence(sre_parse.parse(pattern))
