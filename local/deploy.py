"""``python -m local.deploy [ARGS]`` is ``python -m stacks.deploy --local [ARGS]``: deploy the stack into the
running local AWS (``python -m local.aws up``). On the local side, so ``stacks`` never imports ``local``.
"""

import sys

from local.aws import run_locally
from stacks import deploy

if __name__ == "__main__":
    sys.exit(run_locally(deploy.main))
