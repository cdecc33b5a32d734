"""``python -m overparam run CHAPTER --scale SCALE [--out DIR]``: see :mod:`overparam.runner`."""

import sys

from overparam.runner import main

sys.exit(main())
