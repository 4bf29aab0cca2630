"""Source 'storage' (placeholder until its collector lands)."""

from omv_copilot_agent.collect.base import Unavailable

NAME = "storage"


def collect(ctx):
    raise Unavailable("not implemented yet")
