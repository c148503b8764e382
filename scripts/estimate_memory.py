"""Estimate per-GPU and per-node CPU memory for a model's weights, gradients and Adam states under ZeRO.

The tool is ftkit/commands/estimate_memory.py (usage there); this file runs it from a clone,
as the installed command `ftkit-estimate-memory` does.
"""

import sys

from ftkit.commands.estimate_memory import main

if __name__ == "__main__":
    sys.exit(main())
