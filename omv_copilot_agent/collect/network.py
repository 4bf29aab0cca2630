"""Source 'network' (placeholder until its collector lands)."""

from omv_copilot_agent.collect.base import Unavailable

NAME = "network"


def collect(ctx):
    raise Unavailable("not implemented yet")
