"""``python -m local.rotate [ARGS]`` is ``python -m stacks.rotate --local [ARGS]``: rotate the access
key in the running local AWS (``python -m local.aws up``), re-pulling the demo's SOPS file under
``.local/`` with the demo's age identity (unless SOPS_AGE_KEY_FILE is set). On the local side, so
``stacks`` never imports ``local``.
"""

import os
import sys

from local.aws import AGE_KEYS_PATH, DEFAULT_STATE_DIR, SOPS_FILE_PATH, run_locally
from runtime.constants import ENV_SOPS_AGE_KEY_FILE
from stacks import rotate

if __name__ == "__main__":
    os.environ.setdefault(ENV_SOPS_AGE_KEY_FILE, str(DEFAULT_STATE_DIR / AGE_KEYS_PATH))
    sys.exit(run_locally(rotate.main, local_sops_file=DEFAULT_STATE_DIR / SOPS_FILE_PATH))
