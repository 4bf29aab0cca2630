"""``omv-copilot daemon``: run the scheduler and API (foreground by default)."""

from __future__ import annotations

import logging

from omv_copilot_agent import config as config_mod, memory, probes


def register(sub) -> None:
    parser = sub.add_parser("daemon", help="run the collector and the API server",
                            description="Run the collection scheduler and the localhost API in one process.")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--foreground", action="store_true", help="stay in the foreground (default)")
    mode.add_argument("--detach", action="store_true", help="detach (python-daemon) for systems without systemd")
    parser.add_argument("--pidfile", metavar="PATH", help="pid file (with --detach)")
    parser.set_defaults(handler=run)


def run(args) -> int:
    # validated in a child process: the schema validator's imports never take up the daemon's memory
    config = memory.in_child(config_mod.load, args.config)
    # YAML is parsed where its memory goes away: the daemon itself never imports python3-yaml
    config_mod.use_schema(memory.in_child(config_mod.read_schema))
    probes.use_catalogue(memory.in_child(probes.load_catalogue))
    level = getattr(logging, config["logging"]["level"])
    logging.getLogger().setLevel(logging.DEBUG if args.verbose else level)
    with memory.without_openssl():  # the API's imports (Flask) and the agent's, without libcrypto
        from omv_copilot_agent.api import create_app  # noqa: F401 - imported here for the block above
        from omv_copilot_agent.daemon import serve
        from omv_copilot_agent.daemon.agent import Agent  # noqa: F401 - imported here for the block above

    if args.detach:
        from omv_copilot_agent.daemon.detach import detached

        with detached(config, args.pidfile):
            return serve(config)
    return serve(config)
