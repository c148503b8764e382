"""``python -m m2scorer``: same as ``python m2scorer/m2scorer.py``."""

import sys

from .m2scorer import main

sys.exit(main())
