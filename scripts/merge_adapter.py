"""Merge a LoRA adapter into its base model: a plain model folder that loads without peft.

The tool is ftkit/commands/merge_adapter.py (usage there); this file runs it from a clone,
as the installed command `ftkit-merge-adapter` does.
"""

import sys

from ftkit.commands.merge_adapter import main

if __name__ == "__main__":
    sys.exit(main())
