"""`make bench`, apiKey mode: header + config builds per second with a warm key cache against the
SigV4-header builds of today (target: apiKey at least half as fast, i.e. within 2x), and the cost of
a cold mint (cache empty) with AWS's token generator, first in a process (imports botocore) and
then with botocore loaded. Not a test.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RATIO_TARGET = 2.0


def builds_per_second(auth: str, seconds: float = 1.5) -> float:
    import runtime

    creds = runtime.Credentials("AKIAIOSFODNN7EXAMPLE", "x" * 40, region="us-east-1")
    headers, config = runtime.portkey_headers, runtime.portkey_config
    headers("claude-sonnet-4.5", creds, auth=auth)  # warm: the key is minted and cached here
    best = 0.0
    for _ in range(3):
        count, start = 0, time.perf_counter()
        deadline = start + seconds / 3
        while time.perf_counter() < deadline:
            for _ in range(500):
                headers("claude-sonnet-4.5", creds, auth=auth)
                config("claude-sonnet-4.5", creds, auth=auth)
            count += 500
        best = max(best, count / (time.perf_counter() - start))
    return best


def cold_mint_ms(runs: int = 200) -> float:
    from runtime import Credentials
    from runtime.credentials.api_key import bedrock_api_key, clear_cache

    times = []
    for index in range(runs):
        creds = Credentials("AKIAIOSFODNN7EXAMPLE", f"secret-{index}", region="us-east-1")
        clear_cache()
        start = time.perf_counter()
        bedrock_api_key(creds)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def first_mint_in_process_ms(runs: int = 5) -> float:
    probe = (
        "import time, runtime; c = runtime.Credentials('AKIAIOSFODNN7EXAMPLE', 'x' * 40, region='us-east-1'); "
        "t = time.perf_counter(); runtime.bedrock_api_key(c); print((time.perf_counter() - t) * 1e3)"
    )
    times = []
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO)
        times.append(float(done.stdout.strip()))
    return statistics.median(times)


def main() -> int:
    sys.path.insert(0, str(REPO))
    sigv4 = builds_per_second("sigv4")
    api_key = builds_per_second("api-key")
    ratio = sigv4 / api_key
    print(
        f"apiKey header+config builds (warm cache): {api_key:,.0f}/s vs SigV4 {sigv4:,.0f}/s -> "
        f"{ratio:.2f}x slower (target <= {RATIO_TARGET:.1f}x) {'OK' if ratio <= RATIO_TARGET else 'MISSED'}"
    )
    print(f"cold mint (botocore loaded): {cold_mint_ms():.3f} ms median")
    print(f"first mint in a fresh process (imports botocore + token generator): {first_mint_in_process_ms():.1f} ms")
    return 0 if ratio <= RATIO_TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
