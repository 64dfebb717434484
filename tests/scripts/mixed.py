"""A trial over a log-scaled rate, an integer and a choice, reporting five steps; it fails
(a Python exception on stderr) when the rate is too high, as a diverging training would."""

import argparse

import metaopt

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, required=True)
parser.add_argument("--layers", type=int, required=True)
parser.add_argument("--act", required=True)
args = parser.parse_args()

if args.lr > 0.01:
    raise FloatingPointError(f"loss diverged at lr={args.lr:.4f} after 3 steps")
floor = (args.layers - 3) ** 2 * 0.05 + {"relu": 0.0, "tanh": 0.1, "gelu": 0.05}[args.act]
for step in range(5):
    metaopt.report(step, loss=floor + abs(args.lr - 0.003) * 10 + 1.0 / (step + 1))
