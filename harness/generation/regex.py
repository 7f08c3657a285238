"""Regexes to fast seeded generators, exact by construction, and the pattern reading both generators share.

Runs of a character class are random bytes translated through a table. Patterns this module cannot build exactly
(backreferences, lookarounds, word boundaries) raise ``UnsupportedPattern``; the Hypothesis strategies hand those
to ``st.from_regex``, the volume generator reports them as a schema it cannot load.
"""

from __future__ import annotations

import random
import re
import re._parser as sre_parse  # type: ignore[import-not-found]  # the standard library's own regex parser
import string
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from harness.errors import SchemaLoadError

__all__ = [
    "ANCHORS",
    "OPEN_REPEAT",
    "REPEATS",
    "SeededGen",
    "UnsupportedPattern",
    "alphabet_of",
    "parse",
    "positive_lookaround",
    "seeded_regex",
]

_PRINTABLE = "".join(chr(c) for c in range(0x20, 0x7F))
_CATEGORIES = {  # ASCII members of each class: a subset, so every string built still matches
    sre_parse.CATEGORY_DIGIT: string.digits,
    sre_parse.CATEGORY_WORD: string.ascii_letters + string.digits + "_",
    sre_parse.CATEGORY_SPACE: " ",
    sre_parse.CATEGORY_NOT_DIGIT: "".join(c for c in _PRINTABLE if not c.isdigit()),
    sre_parse.CATEGORY_NOT_WORD: "".join(c for c in _PRINTABLE if not (c.isalnum() or c == "_")),
    sre_parse.CATEGORY_NOT_SPACE: "".join(c for c in _PRINTABLE if c != " "),
}
ANCHORS = {sre_parse.AT_BEGINNING, sre_parse.AT_BEGINNING_STRING, sre_parse.AT_END, sre_parse.AT_END_STRING}
REPEATS = (sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT, getattr(sre_parse, "POSSESSIVE_REPEAT", None))
OPEN_REPEAT = 8  # how far past its minimum an unbounded repeat (``*``, ``+``, ``{n,}``) may go
MAX_REPEAT_SPAN = 256  # how far past its minimum a bounded repeat may go: ``a{0,1000000000}`` stays small


class UnsupportedPattern(Exception):
    """A construct these builders do not handle exactly."""

    @property
    def construct(self) -> str:
        """The refused construct in words (``ASSERT`` is a lookahead or lookbehind)."""
        name = str(self.args[0]) if self.args else "unknown"
        return _CONSTRUCTS.get(name, f"the construct {name}")

    def error(self, pattern: str, generator: str) -> SchemaLoadError:
        """The one-line error a user sees for ``pattern``."""
        return SchemaLoadError(
            f"The {generator} cannot build strings for the pattern {pattern!r} ({self.construct}); write it without "
            "lookarounds, backreferences or word boundaries."
        )


_CONSTRUCTS = {
    "ASSERT": "a lookahead or lookbehind",
    "ASSERT_NOT": "a negative lookahead or lookbehind",
    "GROUPREF": "a backreference",
    "GROUPREF_EXISTS": "a conditional group",
    "AT_BOUNDARY": "a word boundary",
    "AT_NON_BOUNDARY": "a word boundary",
}


def positive_lookaround(parsed: Any) -> bool:
    """Does the parse tree hold a lookahead or lookbehind that must match (``(?=...)``, ``(?<=...)``)?"""
    for op, arg in parsed:
        if op is sre_parse.ASSERT:
            return True
        if op is sre_parse.SUBPATTERN and positive_lookaround(arg[-1]):
            return True
        if op is sre_parse.BRANCH and any(positive_lookaround(branch) for branch in arg[1]):
            return True
        if op in REPEATS and positive_lookaround(arg[2]):
            return True
        if op is sre_parse.ASSERT_NOT and positive_lookaround(arg[1]):
            return True
    return False


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


def alphabet_of(op: Any, arg: Any) -> str | None:
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
            if arg not in ANCHORS:
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
    alphabet = alphabet_of(op, arg)
    if alphabet is not None:
        return _seeded_run(alphabet, 1, 1)
    if op is sre_parse.SUBPATTERN:
        return _seeded_sequence(arg[-1])
    if op is sre_parse.BRANCH:
        options = [_seeded_sequence(branch) for branch in arg[1]]
        count = len(options)
        return lambda rng: options[int(rng.random() * count)](rng)
    if op in REPEATS:
        low, high, sub = arg
        top = low + OPEN_REPEAT if high is sre_parse.MAXREPEAT else min(high, low + MAX_REPEAT_SPAN)
        items = list(sub)
        if len(items) == 1:
            one = alphabet_of(*items[0])
            if one is not None:
                return _seeded_run(one, low, top)
        inner = _seeded_sequence(sub)
        span = top - low + 1
        return lambda rng: "".join([inner(rng) for _ in range(low + int(rng.random() * span))])
    raise UnsupportedPattern(op)


@lru_cache(maxsize=1024)
def seeded_regex(pattern: str) -> SeededGen:
    """A function ``rng -> str`` whose results fully match ``pattern``; UnsupportedPattern where it can't be exact."""
    return _seeded_sequence(parse(pattern))


def parse(pattern: str) -> Any:
    """The standard library's parse tree of ``pattern`` (``re.error`` when it does not compile)."""
    re.compile(pattern)
    return sre_parse.parse(pattern)
