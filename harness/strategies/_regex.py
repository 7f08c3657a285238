"""Regexes to Hypothesis strategies, exact by construction.

Whole runs of a character class become one ``st.text`` draw (cheap, and it shrinks). ``st.from_regex`` draws
character by character and tracks groups, which dominates generation time for ID-heavy schemas; patterns
``harness.generation.regex`` cannot build exactly (backreferences, lookarounds, word boundaries) go to it instead.
"""

from __future__ import annotations

import re
import re._parser as sre_parse  # type: ignore[import-not-found]  # the standard library's own regex parser
from functools import lru_cache
from typing import Any

from hypothesis import strategies as st

from harness.generation.regex import (
    ANCHORS,
    OPEN_REPEAT,
    REPEATS,
    UnsupportedPattern,
    alphabet_of,
    parse,
    positive_lookaround,
)

__all__ = ["regex_strategy"]


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
            if arg not in ANCHORS:
                raise UnsupportedPattern(arg)
            continue
        parts.append(_node(op, arg))
    if literal:
        parts.append(st.just(literal))
    return _join(parts)


def _node(op: Any, arg: Any) -> st.SearchStrategy[str]:
    alphabet = alphabet_of(op, arg)
    if alphabet is not None:
        return st.sampled_from(alphabet) if len(alphabet) > 1 else st.just(alphabet)
    if op is sre_parse.SUBPATTERN:
        return _sequence(arg[-1])
    if op is sre_parse.BRANCH:
        return st.one_of([_sequence(branch) for branch in arg[1]])
    if op in REPEATS:
        low, high, sub = arg
        top = low + OPEN_REPEAT if high is sre_parse.MAXREPEAT else high
        items = list(sub)
        if len(items) == 1:
            one = alphabet_of(*items[0])
            if one is not None:
                return st.text(alphabet=one, min_size=low, max_size=top)
        inner = _sequence(sub)
        return st.lists(inner, min_size=low, max_size=top).map("".join)
    raise UnsupportedPattern(op)


@lru_cache(maxsize=1024)
def regex_strategy(pattern: str) -> st.SearchStrategy[str]:
    """Strings that ``re.fullmatch`` ``pattern``, printable ASCII only."""
    compiled = re.compile(pattern)
    parsed = parse(pattern)
    try:
        return _sequence(parsed)
    except UnsupportedPattern:
        if positive_lookaround(parsed):  # from_regex only filters for these: a draw would be Unsatisfiable
            raise UnsupportedPattern("ASSERT").error(pattern, "Hypothesis strategies") from None
        alphabet = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
        return st.from_regex(compiled, fullmatch=True, alphabet=alphabet)
