"""Score a GEC system output with ERRANT 3.0.2 (errant_parallel + errant_compare's figures, fast): the
errant-score command (errant_fast.cli, where its options are described) from a checkout.

Usage:
    python scripts/errant_score.py SYSTEM_FILE GOLD_M2 [--source SRC] [--cat 1|2|3] [--single] [--beta B]
        [-lev] [-merge rules|all-split|all-merge|all-equal] [-tok] [--processes N] [--no_cache]
"""

import sys

from errant_fast.cli import command

if __name__ == "__main__":
    sys.exit(command())
