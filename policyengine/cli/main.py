"""``policyengine`` entry point.

Each sub-command lives in its own module in this package exposing
``add_parser(subparsers)`` and ``run(args) -> int``. Modules import only
argparse at load time so that ``policyengine lint`` starts fast; the work is
imported inside ``run``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from policyengine import __version__

#: sub-command -> module in policyengine.cli
COMMANDS: dict[str, str] = {
    "lint": "lint",
    "evaluate": "evaluate",
    "diff": "diff",
    "check-access": "check_access",
    "test": "test",
    "policies": "policies",
    "explain": "explain",
    "collect": "collect",
    "scan": "scan",
    "history": "history",
    "remediate": "remediate",
    "respond": "respond",
    "docs": "docs",
}

#: one-shot commands that hold large acyclic data (see the gc note in main)
BATCH_COMMANDS = frozenset({"evaluate", "diff", "check-access", "test"})

#: commands that never log, so that pre-commit start-up stays instant
QUIET_COMMANDS = frozenset({"lint", "test", "docs", "policies", "explain"})

EXIT_CODES_HELP = (
    "exit codes: 0 nothing at or above --fail-on; 1 findings at or above it; "
    "2 usage, config or policy error; 3 data incomplete (a connector failed); "
    "130 interrupted; 143 stopped by SIGTERM"
)


_GLOBAL_OPTIONS_WITH_VALUE = ("--log-format", "--log-level")


def _command_in(argv: Sequence[str]) -> str | None:
    """The sub-command named in ``argv``, skipping global options and their values."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in _GLOBAL_OPTIONS_WITH_VALUE:
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="policyengine",
        description="Privileged-access and credential-hygiene policy engine.",
        epilog=EXIT_CODES_HELP,
    )
    parser.add_argument("--version", action="version", version=f"policyengine {__version__}")
    parser.add_argument(
        "--log-format",
        choices=["console", "json"],
        help="log lines on stderr: console (default on a terminal) or json (default elsewhere)",
    )
    parser.add_argument(
        "--log-level", default="warning", choices=["debug", "info", "warning", "error"]
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = _command_in(argv)
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(f"policyengine.cli.{module_name}")
        module.add_parser(sub, full=(name == wanted))
    return parser


def _os_error_message(exc: OSError) -> str:
    """``path: reason`` for a file the system refused that no layer below named itself.

    The layers that write (fsutil, the history, the run folder) give their own
    messages; this is the last resort that keeps a missed case to one line.
    """
    names = " -> ".join(str(n) for n in (exc.filename, exc.filename2) if n is not None)
    return f"{names}: {exc.strerror or exc}"


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    from policyengine.errors import PolicyEngineError

    if args.command not in QUIET_COMMANDS:
        from policyengine import log  # structlog costs ~0.15 s to import: not for lint

        log.configure(args.log_format, args.log_level)
    if args.command in BATCH_COMMANDS:
        import gc

        # a short-lived batch over up to millions of acyclic records and findings:
        # the cyclic collector's full passes would cost more than the work itself
        gc.disable()
    from policyengine.cli._stdout import discard_stdout, guarded_stdout

    try:
        with guarded_stdout():
            return int(args.run(args))
    except PolicyEngineError as exc:
        from policyengine.redact import redact_text

        print(f"policyengine: error: {redact_text(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("policyengine: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        discard_stdout()
        return 0
    except OSError as exc:
        if exc.filename is None:
            raise  # names no file: a bug, reported below as one
        from policyengine.redact import redact_text

        print(f"policyengine: error: {redact_text(_os_error_message(exc))}", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug: one line, exit 2 (never 1, which means "findings")
        from policyengine.redact import redact_text

        print(
            f"policyengine: internal error: {type(exc).__name__}: {redact_text(str(exc))} "
            "(please report it; run with PYTHONDEVMODE=1 for a traceback)",
            file=sys.stderr,
        )
        if os.environ.get("PYTHONDEVMODE"):
            raise
        return 2
