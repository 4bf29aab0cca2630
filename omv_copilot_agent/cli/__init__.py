"""``omv-copilot``: the shell face of the agent (argparse).

Global options come before the subcommand (``omv-copilot --config F status``).
Each subcommand lives in a module of this package listed in :data:`COMMANDS`
and exposes ``register(subparsers)``; its handler gets ``(args, ctx)`` and
returns an exit code. Errors the user can fix print one line to stderr and
exit 2 (usage/config) or 1 (runtime) — never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from omv_copilot_agent import __version__
from omv_copilot_agent.config import ConfigError

COMMANDS = ("status", "daemon", "patterns", "diagnose", "ask")
COMMANDS += ("alerts",)  # alerts, health, history
COMMANDS += ("changes",)  # pending, preflight


class CliError(Exception):
    """A failure to report in one line; ``code`` is the exit status."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


def build_parser(commands: tuple[str, ...] = COMMANDS) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="omv-copilot",
        description="OMV Co-Pilot: health, alerts and troubleshooting for an OpenMediaVault NAS.",
    )
    parser.add_argument("--config", metavar="PATH", help="config file (default: $OMV_COPILOT_CONFIG or /etc/omv-copilot/config.yaml)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in commands:
        importlib.import_module(f"omv_copilot_agent.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; its output passes :class:`SafeStream` (answers and names may carry escape sequences)."""
    from omv_copilot_agent.cli.output import SafeStream

    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = SafeStream(sys.stdout), SafeStream(sys.stderr, keep="\r")  # \r: the CLI's own spinner
    try:
        return _main(argv)
    finally:
        sys.stdout, sys.stderr = saved


def command_of(argv: list[str]) -> str | None:
    """The subcommand ``argv`` names (after the global options), if any."""
    args = iter(argv)
    for arg in args:
        if arg == "--config":
            next(args, None)
        elif not (arg.startswith("--config=") or arg in ("-v", "--verbose")):
            return arg
    return None


def _main(argv: list[str] | None) -> int:
    # The daemon registers only its own subcommand: it keeps every module it imports for as long
    # as it runs, and the other commands' modules (~1 MiB) would serve nothing there.
    daemon_only = command_of(sys.argv[1:] if argv is None else argv) == "daemon"
    parser = build_parser(("daemon",) if daemon_only else COMMANDS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        code = int(args.handler(args) or 0)
        from omv_copilot_agent.cli.client import NOTICES

        for line in NOTICES:
            print(line, file=sys.stderr)
        NOTICES.clear()  # main() may run again in one process (python3 -m, tests)
        return code
    except ConfigError as exc:
        print(f"omv-copilot: config error: {exc}", file=sys.stderr)
        return 2
    except CliError as exc:
        print(f"omv-copilot: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("omv-copilot: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
