"""A long trial: saves a checkpoint, reports once, records its pid, then sleeps until done.

Started again after an interruption, it finds its checkpoint and finishes at once: that is how
the tests see that a requeued trial resumes from its checkpoint instead of starting over.
"""

import argparse
import os
import time

import metaopt

parser = argparse.ArgumentParser()
parser.add_argument("--x", type=float, required=True)
parser.add_argument("--seconds", type=float, default=30.0)
args = parser.parse_args()

state = metaopt.load_checkpoint({"runs": 0})
state["runs"] += 1
metaopt.save_checkpoint(state)
metaopt.report(0, loss=args.x, runs=state["runs"])
# Written last: a test that sees the pid file knows the checkpoint is saved, so an interruption
# from then on is resumed, not started over.
pid_file = metaopt.trial_dir() / "trial.pid"
pid_file.with_suffix(".tmp").write_text(str(os.getpid()))
pid_file.with_suffix(".tmp").rename(pid_file)
deadline = time.monotonic() + (args.seconds if state["runs"] == 1 else 0)
while time.monotonic() < deadline:
    time.sleep(0.05)
metaopt.report(1, loss=args.x / 2, runs=state["runs"])
