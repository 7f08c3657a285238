"""Reading a spec document (JSON or YAML) and resolving its ``$ref``s, with errors that name the file and the place."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from harness.core.files import read_text
from harness.errors import SchemaLoadError

__all__ = ["Documents", "pointer_get"]

_MAX_REMOTE_BYTES = 5 * 1024 * 1024


def _parse(path: Path, text: str) -> Any:
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise SchemaLoadError(f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}.") from None
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise SchemaLoadError(f"{path}: invalid YAML{where}: {problem}.") from None


def pointer_get(doc: Any, pointer: str, where: str) -> Any:
    """The value at a JSON Pointer fragment (``/a/b``), or a one-line error naming ``where``."""
    node = doc
    if pointer in ("", "/"):
        return doc
    for raw in pointer.lstrip("/").split("/"):
        part = unquote(raw).replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise SchemaLoadError(f"{where}: cannot resolve #{pointer} (no {part!r} there).")
    return node


class Documents:
    """Loaded spec files by path, and ``$ref`` resolution across them (remote ones only when allowed)."""

    def __init__(self, root: Path, *, allow_remote: bool = False, fetch: Callable[[str], str] | None = None) -> None:
        self.root = root.resolve()
        self.allow_remote = allow_remote
        self._fetch = fetch
        self._cache: dict[str, Any] = {}

    def load(self, location: str) -> Any:
        """A document by local path or (when allowed) URL, parsed once."""
        if location not in self._cache:
            if location.startswith(("http://", "https://")):
                text = self._remote(location)
                path = Path(urlsplit(location).path or "remote.json")
            else:
                path = Path(location)
                text = read_text(path, SchemaLoadError)
            self._cache[location] = _parse(path, text)
        return self._cache[location]

    def _remote(self, url: str) -> str:
        if self._fetch is not None:
            return self._fetch(url)
        from harness.fetch import FetchError, bounded_session, fetch

        try:  # the harness's one proxy policy and an overall deadline, as for every other peer
            answer = fetch(bounded_session(), "GET", url, timeout=10, max_body=_MAX_REMOTE_BYTES)
        except FetchError as exc:
            raise SchemaLoadError(f"{url}: cannot be fetched ({exc.reason}).") from None
        if answer.status != 200 or answer.truncated or answer.error:
            raise SchemaLoadError(f"{url}: cannot be fetched (HTTP {answer.status}, or larger than 5 MB).")
        return answer.body.decode("utf-8", "replace")

    def target(self, ref: str, base: str, where: str) -> tuple[str, str]:
        """The (document location, fragment) a ``$ref`` found in ``base`` points to."""
        target, _, fragment = ref.partition("#")
        if not target:
            return base, fragment
        if target.startswith(("http://", "https://")) or base.startswith(("http://", "https://")):
            url = target if target.startswith(("http://", "https://")) else base.rsplit("/", 1)[0] + "/" + target
            if not self.allow_remote:
                raise SchemaLoadError(f"{where}: remote $ref {ref!r} is not fetched (pass --allow-remote-refs).")
            return url, fragment
        return str((Path(base).parent / target).resolve()), fragment

    def resolve(self, ref: str, base: str, where: str) -> tuple[Any, str]:
        """The object a ``$ref`` names, and the document it lives in."""
        location, fragment = self.target(ref, base, where)
        try:
            doc = self.load(location)
        except SchemaLoadError as exc:
            raise SchemaLoadError(f"{where}: unresolved $ref {ref!r} ({exc})") from None
        try:
            return pointer_get(doc, fragment, where), location
        except SchemaLoadError:
            raise SchemaLoadError(f"{where}: unresolved $ref {ref!r}.") from None
