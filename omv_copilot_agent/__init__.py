"""OMV Co-Pilot agent: health, alerts and grounded troubleshooting for an OpenMediaVault box."""

__version__ = "0.1.0"
