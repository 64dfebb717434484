"""A trial that trains in epochs: it resumes from its checkpoint, reports every epoch and stops
when early stopping says so, as the README's freeze-thaw protocol asks.

--no-checkpoint never saves one (it can be stopped early, never thawed); --past-budget trains to
9 epochs whatever --epochs says (report's answer stops it); --ignore-stop trains on whatever
report answers (the daemon stops it after the grace period); --by-exception lets report raise.
"""

import argparse
import sys
import time

import metaopt

parser = argparse.ArgumentParser()
parser.add_argument("--x", type=float, required=True)
parser.add_argument("--epochs", type=int, required=True)
parser.add_argument("--sleep", type=float, default=0.0)
parser.add_argument("--no-checkpoint", action="store_true")
parser.add_argument("--past-budget", action="store_true")
parser.add_argument("--ignore-stop", action="store_true")
parser.add_argument("--by-exception", action="store_true")
args = parser.parse_args()
if args.by_exception:
    metaopt.stop_by_exception()  # report raises metaopt.Frozen (exit 75) instead of False

state = metaopt.load_checkpoint({"epoch": 0})
start = state["epoch"]  # reported too: a resumed run shows where it went on from
for epoch in range(state["epoch"], 9 if args.past_budget else args.epochs):
    time.sleep(args.sleep)
    # report, then checkpoint (even when report raises): a kill in between repeats this step,
    # never skips it
    try:
        go_on = metaopt.report(epoch, loss=(args.x - 0.3) ** 2 + 1.0 / (epoch + 1), start=start)
    finally:
        if not args.no_checkpoint:
            metaopt.save_checkpoint({"epoch": epoch + 1})
    if not go_on and not args.ignore_stop:
        sys.exit(metaopt.FROZEN_EXIT)
