"""A trial that reports a known objective: (x - 0.3)^2 + (y - 0.6)^2 over a few steps."""

import argparse
import os
import time

import metaopt

parser = argparse.ArgumentParser()
parser.add_argument("--x", type=float, required=True)
parser.add_argument("--y", type=float, default=0.6)
parser.add_argument("--steps", type=int, default=3)
parser.add_argument("--sleep", type=float, default=0.0)
args = parser.parse_args()

value = (args.x - 0.3) ** 2 + (args.y - 0.6) ** 2
for step in range(args.steps):
    time.sleep(args.sleep)
    metaopt.report(step, loss=value + (args.steps - 1 - step) * 0.1, step_seen=step)
print(
    f"cuda={os.environ.get('CUDA_VISIBLE_DEVICES')!r} trial={os.environ.get('METAOPT_TRIAL_ID')}"
)
