"""``python -m local.budget status|reset [ARGS]`` is ``python -m stacks.budget --local ...``: the budget
stop of the stack in the running local AWS (``python -m local.aws up``). On the local side, so ``stacks``
never imports ``local``.
"""

import sys

from local.aws import run_locally
from stacks import budget

if __name__ == "__main__":
    sys.exit(run_locally(budget.main))
