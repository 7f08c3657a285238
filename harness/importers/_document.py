"""Reading a spec document (JSON or YAML) and resolving its ``$ref``s, with errors that name the file and the place."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from harness.core.files import read_text
from harness.core.pointers import parse_pointer
from harness.errors import SchemaLoadError, UsageError

__all__ = ["MAX_SPEC_BYTES", "MAX_SPEC_DEPTH", "MAX_SPEC_NODES", "Documents", "pointer_get"]

MAX_SPEC_BYTES = 10 * 1024 * 1024  # one spec document, local or remote
MAX_SPEC_DEPTH = 100  # nesting of objects and arrays in one document
MAX_SPEC_NODES = 1_000_000  # values in one document once YAML aliases are expanded (a billion laughs is refused)
MAX_SPEC_TEXT = 64 << 20  # characters of keys and strings once aliases are expanded (one long string, repeated)


def _parse(path: Path, text: str) -> Any:
    try:
        if path.suffix.lower() == ".json":
            try:
                doc = json.loads(text)
            except json.JSONDecodeError as exc:
                raise SchemaLoadError(
                    f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}."
                ) from None
        else:
            doc = _parse_yaml(path, text)
    except RecursionError:
        raise SchemaLoadError(f"{path}: nested more than {MAX_SPEC_DEPTH} levels deep.") from None
    _check_shape(path, doc)
    return doc


def _parse_yaml(path: Path, text: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise SchemaLoadError(f"{path}: invalid YAML{where}: {problem}.") from None


def _check_shape(path: Path, doc: Any) -> None:
    """Refuse a document nested too deeply or expanding (through YAML aliases) into too many values.

    The walk is iterative and stops at the first limit, so a billion laughs costs at most ``MAX_SPEC_NODES`` steps.
    """
    stack, count, text = [(doc, 1)], 0, 0
    while stack:
        node, level = stack.pop()
        count += 1
        if isinstance(node, str):
            text += len(node)
        if count > MAX_SPEC_NODES or text > MAX_SPEC_TEXT:
            raise SchemaLoadError(
                f"{path}: expands to more than {MAX_SPEC_NODES:,} values or {MAX_SPEC_TEXT >> 20} MiB of text"
                " (YAML aliases repeated?); refused."
            )
        if isinstance(node, dict):
            text += sum(len(key) for key in node if isinstance(key, str))
        if isinstance(node, dict | list):
            if level > MAX_SPEC_DEPTH:
                raise SchemaLoadError(f"{path}: nested more than {MAX_SPEC_DEPTH} levels deep.")
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, level + 1) for child in children)


def pointer_get(doc: Any, pointer: str, where: str) -> Any:
    """The value at a JSON Pointer fragment (``/a/b``), or a one-line error naming ``where``."""
    node = doc
    try:
        parts = parse_pointer(unquote(pointer))  # RFC 6901 section 6: a fragment is percent-decoded first
    except UsageError as exc:
        raise SchemaLoadError(f"{where}: cannot resolve #{pointer} ({exc}).") from None
    for part in parts:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise SchemaLoadError(f"{where}: cannot resolve #{pointer} (no {part!r} there).")
    return node


class Documents:
    """Loaded spec files by path, and ``$ref`` resolution across them (remote ones only when allowed).

    Local references are confined: only files under the spec's own folder (and any ``allow_local`` folder) are
    read; an absolute path, a ``..`` leaving those folders, a symlink out of them and ``file://`` are refused.
    """

    def __init__(
        self,
        root: Path,
        *,
        allow_remote: bool = False,
        fetch: Callable[[str], str] | None = None,
        allow_local: Sequence[Path] = (),
    ) -> None:
        self.root = root.resolve()
        self.allow_remote = allow_remote
        self.folders = [self.root.parent, *(Path(folder).resolve() for folder in allow_local)]
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
                text = read_text(path, SchemaLoadError, what="spec", max_bytes=MAX_SPEC_BYTES)
            self._cache[location] = _parse(path, text)
        return self._cache[location]

    def _remote(self, url: str) -> str:
        if self._fetch is not None:
            return self._fetch(url)
        from harness.net.fetch import FetchError, bounded_session, fetch

        try:  # the harness's one proxy policy and an overall deadline, as for every other peer
            answer = fetch(bounded_session(), "GET", url, timeout=10, max_body=MAX_SPEC_BYTES)
        except FetchError as exc:
            raise SchemaLoadError(f"{url}: cannot be fetched ({exc.reason}).") from None
        if answer.status != 200 or answer.truncated or answer.error:
            raise SchemaLoadError(
                f"{url}: cannot be fetched (HTTP {answer.status}, or over {MAX_SPEC_BYTES // (1024 * 1024)} MiB)."
            )
        return answer.body.decode("utf-8", "replace")

    def target(self, ref: str, base: str, where: str) -> tuple[str, str]:
        """The (document location, fragment) a ``$ref`` found in ``base`` points to."""
        target, _, fragment = ref.partition("#")
        if not target:
            return base, fragment
        scheme = urlsplit(target).scheme.lower()
        if scheme and scheme not in ("http", "https") and not (len(scheme) == 1 and target[1:2] == ":"):
            raise SchemaLoadError(f"{where}: $ref {ref!r} is refused: only relative paths and http(s) URLs are read.")
        if target.startswith(("http://", "https://")) or base.startswith(("http://", "https://")):
            url = target if target.startswith(("http://", "https://")) else base.rsplit("/", 1)[0] + "/" + target
            if not self.allow_remote:
                raise SchemaLoadError(f"{where}: remote $ref {ref!r} is not fetched (pass --allow-remote-refs).")
            return url, fragment
        return str(self._confined(Path(base).parent, target, ref, where)), fragment

    def _confined(self, folder: Path, target: str, ref: str, where: str) -> Path:
        """The local file a relative ``$ref`` names, refused when it is absolute or leaves the allowed folders."""
        relative = Path(unquote(target))
        if relative.is_absolute() or target.startswith(("/", "\\")) or (len(target) > 1 and target[1] == ":"):
            raise SchemaLoadError(
                f"{where}: $ref {ref!r} is an absolute path; refused (only files under the spec's folder are read,"
                " --allow-local-refs DIR widens that)."
            )
        path = (folder / relative).resolve()
        if not any(path.is_relative_to(allowed) for allowed in self.folders):
            raise SchemaLoadError(
                f"{where}: $ref {ref!r} leaves the spec's folder; refused (--allow-local-refs DIR widens that)."
            )
        return path

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
