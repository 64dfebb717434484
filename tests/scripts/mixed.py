"""A trial over a log-scaled rate, an integer and a choice, reporting five steps; it fails
(a Python exception on stderr) when the rate is too high, as a diverging training would.
--pace SECONDS sleeps before each step, for a search that can be watched."""

import argparse
import time

import metaopt

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, required=True)
parser.add_argument("--layers", type=int, required=True)
parser.add_argument("--act", required=True)
parser.add_argument("--pace", type=float, default=0.0)
args = parser.parse_args()

if args.lr > 0.01:
    raise FloatingPointError(f"loss diverged at lr={args.lr:.4f} after 3 steps")
floor = (args.layers - 3) ** 2 * 0.05 + {"relu": 0.0, "tanh": 0.1, "gelu": 0.05}[args.act]
for step in range(5):
    time.sleep(args.pace)
    metaopt.report(step, loss=floor + abs(args.lr - 0.003) * 10 + 1.0 / (step + 1))
