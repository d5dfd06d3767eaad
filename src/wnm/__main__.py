"""``python -m wnm`` entry point."""

import sys

from wnm.cli import main

sys.exit(main())
