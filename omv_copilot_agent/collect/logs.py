"""Source 'logs' (placeholder until its collector lands)."""

from omv_copilot_agent.collect.base import Unavailable

NAME = "logs"


def collect(ctx):
    raise Unavailable("not implemented yet")
