"""Random strings that fully match a regular expression, for fast seeded generation without Hypothesis."""

from __future__ import annotations

import random
import re
import re._parser as sre_parse  # type: ignore[import-not-found]  # the standard library's own regex parser
import string
from collections.abc import Callable
from functools import lru_cache
from typing import Any

__all__ = ["regex_generator"]

_CATEGORIES = {
    sre_parse.CATEGORY_DIGIT: string.digits,
    sre_parse.CATEGORY_WORD: string.ascii_letters + string.digits + "_",
    sre_parse.CATEGORY_SPACE: " ",
    sre_parse.CATEGORY_NOT_DIGIT: string.ascii_letters,
    sre_parse.CATEGORY_NOT_WORD: " -.",
    sre_parse.CATEGORY_NOT_SPACE: string.ascii_letters + string.digits,
}
_PRINTABLE = string.ascii_letters + string.digits + " .,-_:/"
_MAX_OPEN_REPEAT = 8
_TRUST_AFTER = 64


def _charset(items: list[tuple[Any, Any]]) -> str:
    negate = False
    chars: list[str] = []
    for op, arg in items:
        if op is sre_parse.NEGATE:
            negate = True
        elif op is sre_parse.LITERAL:
            chars.append(chr(arg))
        elif op is sre_parse.RANGE:
            chars.extend(chr(c) for c in range(arg[0], arg[1] + 1))
        elif op is sre_parse.CATEGORY:
            chars.extend(_CATEGORIES.get(arg, string.ascii_letters))
    if negate:
        return "".join(c for c in _PRINTABLE if c not in set(chars)) or "x"
    return "".join(chars) or "x"


Gen = Callable[[random.Random], str]


def _compile(parsed: Any) -> Gen:
    parts = [_node(op, arg) for op, arg in parsed]
    return lambda rng: "".join(part(rng) for part in parts)


def _node(op: Any, arg: Any) -> Gen:
    if op is sre_parse.LITERAL:
        char = chr(arg)
        return lambda rng: char
    if op is sre_parse.NOT_LITERAL:
        pool = "".join(c for c in _PRINTABLE if ord(c) != arg)
        return lambda rng: rng.choice(pool)
    if op is sre_parse.ANY:
        return lambda rng: rng.choice(_PRINTABLE)
    if op is sre_parse.IN:
        pool = _charset(arg)
        return lambda rng: rng.choice(pool)
    if op is sre_parse.AT:
        return lambda rng: ""
    if op is sre_parse.SUBPATTERN:
        return _compile(arg[-1])
    if op is sre_parse.BRANCH:
        branches = [_compile(b) for b in arg[1]]
        return lambda rng: rng.choice(branches)(rng)
    if op in (sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT):
        low, high, sub = arg
        top = low + _MAX_OPEN_REPEAT if high is sre_parse.MAXREPEAT else high
        items = list(sub)
        if len(items) == 1 and items[0][0] in (sre_parse.IN, sre_parse.LITERAL):
            op1, arg1 = items[0]
            pool = _charset(arg1) if op1 is sre_parse.IN else chr(arg1)
            if low == top:
                return lambda rng: "".join(rng.choices(pool, k=low))
            return lambda rng: "".join(rng.choices(pool, k=rng.randint(low, top)))
        inner = _compile(sub)
        return lambda rng: "".join(inner(rng) for _ in range(rng.randint(low, top)))
    raise ValueError(f"unsupported regex construct {op}")


@lru_cache(maxsize=1024)
def regex_generator(pattern: str) -> Gen:
    """A function ``rng -> str`` producing strings that ``re.fullmatch`` the pattern (anchors are implied)."""
    gen = _compile(sre_parse.parse(pattern))
    compiled = re.compile(pattern)

    checked = [0]

    def generate(rng: random.Random) -> str:
        if checked[0] >= _TRUST_AFTER:  # the construction is exact for this pattern; stop paying for the check
            return gen(rng)
        for _ in range(20):
            value = gen(rng)
            if compiled.search(value):
                checked[0] += 1
                return value
            checked[0] = -(10**9)  # a pattern we approximate: always check
        raise ValueError(f"cannot generate a string for pattern {pattern!r}")

    return generate
