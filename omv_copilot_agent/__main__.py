"""`python3 -m omv_copilot_agent` runs the same CLI as `omv-copilot`."""

import sys

from omv_copilot_agent.cli import main

sys.exit(main())
