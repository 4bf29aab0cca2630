"""Build description for dh-python/pybuild; runtime dependencies come from debian/control."""

from setuptools import find_namespace_packages, setup

from omv_copilot_agent import __version__

setup(
    name="omv-copilot",
    version=__version__,
    description="AI troubleshooting and health assistant for OpenMediaVault",
    # Namespace-aware: a subpackage without __init__.py is still shipped.
    packages=find_namespace_packages(include=["omv_copilot_agent", "omv_copilot_agent.*"], exclude=["*.__pycache__"]),
    # Recursive globs, not a file list: a new schema, migration or data file is shipped
    # without touching this file (tests/integration/test_packaging_generated.py checks it).
    package_data={"omv_copilot_agent": ["**/*.yaml", "**/*.yml", "**/*.sql", "**/*.json", "**/*.j2", "**/*.txt"]},
    entry_points={"console_scripts": ["omv-copilot = omv_copilot_agent.cli:main"]},
    python_requires=">=3.11",
)
