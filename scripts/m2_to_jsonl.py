"""Turn an M2 corpus (FCE, W&I+LOCNESS, NUCLE, Lang-8 as released for BEA-2019, ...) into training rows.

The tool is ftkit/commands/m2_to_jsonl.py (usage there); this file runs it from a clone,
as the installed command `ftkit-m2-to-jsonl` does.
"""

import sys

from ftkit.commands.m2_to_jsonl import main

if __name__ == "__main__":
    sys.exit(main())
