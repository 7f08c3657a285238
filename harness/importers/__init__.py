"""Provider catalogs from machine-readable specs: OpenAPI 3.x webhooks and AsyncAPI 2.x messages.

A spec describes events, headers and bodies; signing, retries and batching it does not describe, so those come from
``--scheme`` (or a guess from the signature header) and defaults that are listed under the profile's
``assumptions``. The folder written loads with ``--schemas DIR`` and passes catalog validation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from harness.errors import SchemaLoadError
from harness.importers._asyncapi import read_asyncapi
from harness.importers._catalog import ImportOptions, ImportResult, Webhook, write_catalog
from harness.importers._document import Documents
from harness.importers._openapi import read_openapi
from harness.importers._schema import SchemaConverter

__all__ = ["ImportOptions", "ImportResult", "import_spec"]

_Reader = Callable[[Documents, str, SchemaConverter], tuple[list[Webhook], dict[str, Any], list[tuple[str, str]]]]
_READERS: dict[str, _Reader] = {
    "openapi": read_openapi,
    "asyncapi": read_asyncapi,
}


def import_spec(
    kind: str,
    spec: Path,
    options: ImportOptions,
    *,
    allow_remote_refs: bool = False,
    allow_local_refs: Sequence[Path] = (),
) -> ImportResult:
    """Read an ``openapi`` or ``asyncapi`` document and write its provider folder under ``options.out``.

    Local ``$ref``s are read only under the spec's folder and the ``allow_local_refs`` folders.
    """
    location = str(spec.resolve())
    docs = Documents(spec, allow_remote=allow_remote_refs, allow_local=allow_local_refs)
    converter = SchemaConverter(docs)
    try:
        webhooks, info, dropped = _READERS[kind](docs, location, converter)
    except RecursionError:
        raise SchemaLoadError(f"{spec}: schemas nested or referencing each other too deeply to import.") from None
    title = str(info.get("title") or options.provider_id)
    version = f" {info['version']}" if info.get("version") else ""
    sources = [f"{spec.name}: {title}{version} ({kind}, imported by webhook-harness)"]
    docs_url = (info.get("externalDocs") or {}).get("url") if isinstance(info.get("externalDocs"), dict) else None
    for url in (docs_url, info.get("termsOfService")):
        if isinstance(url, str) and url:
            sources.append(url)
    return write_catalog(
        webhooks,
        converter,
        options,
        title=f"{title} (imported from {spec.name})",
        sources=sources,
        spec_name=str(spec),
        dropped=dropped,
    )
