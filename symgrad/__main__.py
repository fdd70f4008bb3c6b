"""``python -m symgrad``: the symgrad command (see :mod:`symgrad.cli`)."""
import sys

from .cli import main

sys.exit(main())
