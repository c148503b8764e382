"""Build a standard evaluation set folder for eval_gec.sh from an M2 gold file.

The tool is ftkit/commands/prepare_eval_set.py (usage there); this file runs it from a clone,
as the installed command `ftkit-prepare-eval-set` does.
"""

import sys

from ftkit.commands.prepare_eval_set import main

if __name__ == "__main__":
    sys.exit(main())
