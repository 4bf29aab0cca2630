"""The thresholds of the ``findings`` config section, as one typed object."""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache


@lru_cache(maxsize=1)
def _defaults() -> tuple[tuple[str, object], ...]:
    """The schema's ``findings`` defaults, computed once: building them walks (and copies) every
    default of the whole schema, and thresholds are read on every cycle and every status request."""
    from omv_copilot_agent import config as config_mod

    return tuple(config_mod.defaults()["findings"].items())


@dataclass(frozen=True)
class Thresholds:
    disk_usage_warning_percent: float
    disk_usage_critical_percent: float
    temperature_warning_c: float
    temperature_critical_c: float
    nvme_temperature_warning_c: float
    nvme_temperature_critical_c: float
    nvme_percentage_used_warning: float
    memory_warning_percent: float
    swap_warning_percent: float
    cpu_busy_percent: float
    load_per_cpu_warning: float
    security_updates_min: int
    nic_errors_max: int
    nic_drops_max: int
    slow_link_mbps: int
    job_overdue_grace_s: int
    job_overdue_grace_fraction: float

    @classmethod
    def from_section(cls, section: dict | None = None) -> "Thresholds":
        """From a ``findings`` section; keys it lacks take the schema's defaults."""
        values = {**dict(_defaults()), **(section or {})}
        return cls(**{f.name: values[f.name] for f in fields(cls)})

    @classmethod
    def from_config(cls, config) -> "Thresholds":
        return cls.from_section(config.get_path("findings", {}) if config is not None else None)

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}
