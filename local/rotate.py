"""``python -m local.rotate [ARGS]`` is ``python -m stacks.rotate --local [ARGS]``: rotate the access key in the
running local AWS (``python -m local.aws up``). On the local side, so ``stacks`` never imports ``local``.
"""

import sys

from local.aws import run_locally
from stacks import rotate

if __name__ == "__main__":
    sys.exit(run_locally(rotate.main))
