"""`webhook-harness pact export|verify`: a provider's webhooks as a Pact, and consumer pacts checked against it."""

from __future__ import annotations

import argparse
from typing import Any

from harness.cli._options import add_catalog_options, add_command_options, catalog_from_args

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the `pact` command and its `export` and `verify` subcommands."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "pact",
        help="export a provider's webhooks as a Pact; verify consumer pacts against it (needs the [pact] extra)",
        description="Pact V4 asynchronous messages for webhook providers. Needs pact-python: "
        "pip install 'webhook-harness[pact]'.",
    )
    actions = parser.add_subparsers(dest="pact_command", metavar="ACTION", parser_class=type(parser))
    export = actions.add_parser(
        "export",
        help="write a V4 pact with one message interaction per event type",
        description="Exit 0: the pact was written; 2: usage error (unknown provider or event type, no pact-python).",
    )
    export.add_argument("provider", metavar="PROVIDER")
    add_command_options(export, "pact export")  # --consumer, --event, --out
    add_catalog_options(export)
    export.set_defaults(run=run_export)
    verify = actions.add_parser(
        "verify",
        help="verify consumer pacts against what the provider really sends",
        description="Exit 0: every expectation met (skipped is fine); 1: an expectation the provider does not meet; "
        "2: usage error (no pact file, no interaction to verify, no pact-python).",
    )
    verify.add_argument("target", metavar="PACT_FILE_OR_DIR")
    add_command_options(verify, "pact verify")  # --provider, --examples, --seed, --report, --junitxml
    add_catalog_options(verify)
    verify.set_defaults(run=run_verify)
    parser.set_defaults(run=run, pact_parser=parser)


def run(args: argparse.Namespace) -> int:
    """`pact` without an action: its help."""
    args.pact_parser.print_help()
    return 2


def run_export(args: argparse.Namespace) -> int:
    """Write the pact."""
    from harness.pact import export_pact, pact_python

    pact_python()  # the one-line error naming the extra, before the catalog loads
    provider = catalog_from_args(args).get(args.provider)
    path = export_pact(provider, args.consumer, args.out, args.event or None)
    print(f"Pact written to {path}")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    """Verify the pacts; print, and write the reports asked for."""
    import json

    from harness.pact import pact_python, render_result, to_json, to_junit, verify_pacts
    from harness.report import ensure_writable, write_text

    pact_python()
    for path in (args.report, args.junitxml):
        if path:
            ensure_writable(path)
    result = verify_pacts(
        args.target, catalog_from_args(args), provider=args.provider, examples=args.examples, seed=args.seed
    )
    print(render_result(result))
    if args.report:
        write_text(json.dumps(to_json(result), indent=2) + "\n", args.report)
        print(f"JSON report written to {args.report}")
    if args.junitxml:
        write_text(to_junit(result), args.junitxml, "JUnit XML")
        print(f"JUnit XML written to {args.junitxml}")
    return result.exit_code
