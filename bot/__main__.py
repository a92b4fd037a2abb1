"""``python -m bot`` is the same as ``neuvo``."""

import sys

from bot.cli import main

sys.exit(main())
