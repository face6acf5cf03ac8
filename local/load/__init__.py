"""A bounded load harness: chat completions through a local Portkey gateway, timed.

    report = run_load(base_url=gateway.base_url, total=1000, concurrency=50,
                      make_request=lambda i: (headers, runtime.chat_request(name, [...])))
    print(report.format())

    python -m local.load --total 1000 --concurrency 50 [--stream]   # own gateway + double

Client: one thread per worker, each with its own keep-alive ``http.client`` connection. On a
2-core machine the gateway (node) and the double (Python threads) need the CPU; the standard
library client costs a fraction of what the OpenAI SDK (httpx + pydantic) costs per request.

Load goes to loopback only: the gateway's URL must be a loopback address, and every request
must carry a loopback ``x-portkey-custom-host`` (in the header, or on each target of its
``x-portkey-config``) -- without one the gateway would call the real Bedrock endpoint.
"""

from local.load.cli import run_local
from local.load.limits import (
    DEFAULT_DEADLINE,
    MAX_CONCURRENCY,
    MAX_TOTAL,
    Headers,
    LoadError,
    MakeRequest,
    is_loopback_url,
    target_problem,
)
from local.load.report import ERROR_SAMPLES, LoadReport, percentile, redact, secret_values
from local.load.runner import run_load

__all__ = [
    "DEFAULT_DEADLINE",
    "ERROR_SAMPLES",
    "MAX_CONCURRENCY",
    "MAX_TOTAL",
    "Headers",
    "LoadError",
    "LoadReport",
    "MakeRequest",
    "is_loopback_url",
    "percentile",
    "redact",
    "run_load",
    "run_local",
    "secret_values",
    "target_problem",
]
