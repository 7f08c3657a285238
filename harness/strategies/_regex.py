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


Part = str | st.SearchStrategy[str]  # literal text, or a strategy for the text it stands for


def _join(parts: list[Part]) -> st.SearchStrategy[str]:
    """One strategy for the concatenation; literal text is put in by the map, not drawn (a draw per part costs)."""
    drawn = [part for part in parts if not isinstance(part, str)]
    if not drawn:
        return st.just("".join(str(part) for part in parts))
    if len(parts) == 1:
        return drawn[0]
    fill = _Fill(parts)
    if len(drawn) == 1:
        return drawn[0].map(fill.one)
    return st.tuples(*drawn).map(fill.many)


class _Fill:
    """The drawn texts put between a pattern's literal pieces."""

    __slots__ = ("pieces",)

    def __init__(self, parts: list[Part]) -> None:
        self.pieces = [part if isinstance(part, str) else None for part in parts]

    def one(self, text: str) -> str:
        """The one drawn text in place."""
        return "".join(text if piece is None else piece for piece in self.pieces)

    def many(self, texts: tuple[str, ...]) -> str:
        """Each drawn text in its place, in order."""
        found = iter(texts)
        return "".join(next(found) if piece is None else piece for piece in self.pieces)


def _sequence(parsed: Any) -> st.SearchStrategy[str]:
    return _join(_parts(parsed))


def _parts(parsed: Any) -> list[Part]:
    parts: list[Part] = []
    for op, arg in parsed:
        if op is sre_parse.AT:
            if arg not in ANCHORS:
                raise UnsupportedPattern(arg)
            continue
        part = chr(arg) if op is sre_parse.LITERAL else _node(op, arg)
        if isinstance(part, str) and parts and isinstance(parts[-1], str):
            parts[-1] += part
        else:
            parts.append(part)
    return parts


def _node(op: Any, arg: Any) -> Part:
    alphabet = alphabet_of(op, arg)
    if alphabet is not None:
        return st.sampled_from(alphabet) if len(alphabet) > 1 else alphabet
    if op is sre_parse.SUBPATTERN:
        grouped = _parts(arg[-1])
        return grouped[0] if len(grouped) == 1 and isinstance(grouped[0], str) else _join(grouped)
    if op is sre_parse.BRANCH:
        options = [_parts(branch) for branch in arg[1]]
        texts = ["".join(str(p) for p in o) if all(isinstance(p, str) for p in o) else None for o in options]
        if all(text is not None for text in texts):
            return st.sampled_from([str(text) for text in texts])  # alternatives of fixed text: one draw
        return st.one_of([_join(option) for option in options])
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
