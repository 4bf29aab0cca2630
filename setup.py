"""Build description for dh-python/pybuild; runtime dependencies come from debian/control."""

from setuptools import find_packages, setup

from omv_copilot_agent import __version__

setup(
    name="omv-copilot",
    version=__version__,
    description="AI troubleshooting and health assistant for OpenMediaVault",
    packages=find_packages(include=["omv_copilot_agent", "omv_copilot_agent.*"]),
    package_data={"omv_copilot_agent": ["config/schema/*.yaml", "store/migrations/*.sql", "api/openapi.yaml", "knowledge/schema.yaml"]},
    entry_points={"console_scripts": ["omv-copilot = omv_copilot_agent.cli:main"]},
    python_requires=">=3.11",
)
