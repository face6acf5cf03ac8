"""Time `cdk synth` of our app against a one-``iam.User`` CDK app, same interpreter, same run.

Each measurement is a fresh subprocess (what ``npx cdk synth`` runs), so jsii start-up is
included in both. One discarded warm-up run of each primes the OS file cache and the
``__pycache__``; then the two apps alternate so machine load hits both alike. Two ratios are
judged, and both must meet the target: of the fastest runs (the least disturbed by other
processes) and of the medians (the one-``iam.User`` app's own run-to-run spread is wide, so its
luckiest run alone would make the first ratio swing by ±0.05 over a handful of runs).

    python scripts/bench_synth.py [runs]
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

from stacks.cdk_cli import QUIET_JSII_ENV

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET_RATIO = 1.2

OUR_APP = """
import sys
from stacks.app import build_app
build_app({"region": "us-east-1", "account": None}, outdir=sys.argv[1], environ={}).synth()
"""
BASELINE_APP = """
import sys
import aws_cdk as cdk
from aws_cdk import aws_iam as iam
app = cdk.App(outdir=sys.argv[1])
stack = cdk.Stack(app, "Baseline", env=cdk.Environment(region="us-east-1"))
iam.User(stack, "User")
app.synth()
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    for name, value in QUIET_JSII_ENV.items():
        env.setdefault(name, value)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [REPO_ROOT, env.get("PYTHONPATH")]))
    return env


def time_synth(code: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process tree) for one synthesis of `code` in a fresh
    interpreter; raises if it fails. CPU time is less disturbed by other load than wall time."""
    with tempfile.TemporaryDirectory(prefix="bench-synth-") as outdir:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", code, outdir],
            cwd=REPO_ROOT,
            env=_env(),
            check=True,
            capture_output=True,
            timeout=300,
        )
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return wall, cpu


def measure(runs: int = 15) -> dict[str, object]:
    """Synth timings: ``{"runs", "ours_s", "baseline_s", "ours_min_s", "baseline_min_s",
    "ours_median_s", "baseline_median_s", "ratio", "ratio_median", "ours_cpu_s", "baseline_cpu_s",
    "ratio_cpu", "target", "within_target"}``; ``within_target``: both wall-clock ratios meet it."""
    if runs < 1:
        raise ValueError(f"runs={runs} must be at least 1")
    time_synth(OUR_APP)  # warm-up, discarded
    time_synth(BASELINE_APP)
    ours: list[float] = []
    baseline: list[float] = []
    ours_cpu: list[float] = []
    baseline_cpu: list[float] = []
    for _ in range(runs):
        for code, walls, cpus in ((OUR_APP, ours, ours_cpu), (BASELINE_APP, baseline, baseline_cpu)):
            wall, cpu = time_synth(code)
            walls.append(wall)
            cpus.append(cpu)
    ratio = min(ours) / min(baseline)
    ratio_median = statistics.median(ours) / statistics.median(baseline)
    return {
        "runs": runs,
        "ours_s": [round(t, 3) for t in ours],
        "baseline_s": [round(t, 3) for t in baseline],
        "ours_min_s": round(min(ours), 3),
        "baseline_min_s": round(min(baseline), 3),
        "ours_median_s": round(statistics.median(ours), 3),
        "baseline_median_s": round(statistics.median(baseline), 3),
        "ratio": round(ratio, 3),
        "ratio_median": round(ratio_median, 3),
        "ours_cpu_s": [round(t, 3) for t in ours_cpu],
        "baseline_cpu_s": [round(t, 3) for t in baseline_cpu],
        "ratio_cpu": round(min(ours_cpu) / min(baseline_cpu), 3),
        "target": TARGET_RATIO,
        "within_target": max(ratio, ratio_median) <= TARGET_RATIO,
    }


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        runs = int(args[0]) if args else 15
        result = measure(runs)
    except ValueError as err:
        print(f"error: {err}; usage: bench_synth.py [runs>=1]", file=sys.stderr)
        return 2
    print(f"synth, our app:      {result['ours_s']} s (min {result['ours_min_s']}, median {result['ours_median_s']})")
    print(
        f"synth, one iam.User: {result['baseline_s']} s "
        f"(min {result['baseline_min_s']}, median {result['baseline_median_s']})"
    )
    print(f"CPU, our app {result['ours_cpu_s']} s; one iam.User {result['baseline_cpu_s']} s")
    verdict = "within" if result["within_target"] else "OVER"
    print(
        f"ratio {result['ratio']}x of the fastest runs, {result['ratio_median']}x of the medians "
        f"({result['runs']} runs each); target <= {result['target']}x for both: {verdict}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
