"""``python -m local.load --total N --concurrency C [--stream]``."""

import sys

from local.load.cli import main

sys.exit(main())
