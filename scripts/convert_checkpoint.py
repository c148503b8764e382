"""Convert a checkpoint to sharded safetensors, the layout finetune.py writes and loads memory-mapped.

The tool is ftkit/commands/convert_checkpoint.py (usage there); this file runs it from a clone,
as the installed command `ftkit-convert-checkpoint` does.
"""

import sys

from ftkit.commands.convert_checkpoint import main

if __name__ == "__main__":
    sys.exit(main())
