"""Hand-written consumer pacts, as a consumer team would write them with pact-python."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pact import Pact, match


def write(folder: Path, consumer: str, provider: str, *messages: dict[str, Any]) -> Path:
    """A V4 pact of asynchronous messages: each with a description, a body and optional rules and metadata."""
    pact = Pact(consumer, provider).with_specification("V4")
    for message in messages:
        interaction = pact.upon_receiving(message["description"], "Async")
        interaction.with_body(json.dumps(message["body"]), "application/json")
        if message.get("rules"):
            interaction.with_matching_rules({"body": message["rules"]})
        if message.get("metadata"):
            interaction.with_metadata(message["metadata"])
    pact.write_file(folder, overwrite=True)
    return folder / f"{consumer}-{provider}.json"


def type_rule() -> dict[str, Any]:
    """Pact's type matcher, as a matching-rules entry."""
    return {"matchers": [{"match": "type"}]}


def signature(example: str, regex: str) -> Any:
    """A regex matcher for a signature header."""
    return match.regex(example, regex=regex)
