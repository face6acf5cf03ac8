"""``python -m local.destroy [ARGS]`` is ``python -m stacks.destroy --local [ARGS]``: destroy the stack in the
running local AWS (``python -m local.aws up``). On the local side, so ``stacks`` never imports ``local``.
"""

import sys

from local.aws import run_locally
from stacks import destroy

if __name__ == "__main__":
    sys.exit(run_locally(destroy.main))
