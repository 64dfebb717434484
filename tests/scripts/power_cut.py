"""A trial that cuts the power: after reporting epoch --cut-at and saving its checkpoint, the
first run kills its daemon and then its own session with SIGKILL, before the daemon can
record that report. Started again, it resumes from the checkpoint and trains to the end.
"""

import argparse
import os
import signal
import time

import metaopt

parser = argparse.ArgumentParser()
parser.add_argument("--x", type=float, required=True)
parser.add_argument("--epochs", type=int, default=4)
parser.add_argument("--cut-at", type=int, default=2)
parser.add_argument("--daemon-pid", type=int, required=True)
args = parser.parse_args()

state = metaopt.load_checkpoint({"epoch": 0})
start = state["epoch"]
marker = metaopt.trial_dir() / "power-cut"
for epoch in range(start, args.epochs):
    time.sleep(0.3)  # the daemon records each earlier report before the next one
    metaopt.report(epoch, loss=args.x + 1.0 / (epoch + 1), start=start)
    metaopt.save_checkpoint({"epoch": epoch + 1})
    if epoch == args.cut_at and not marker.exists():
        marker.touch()
        os.kill(args.daemon_pid, signal.SIGKILL)
        os.killpg(os.getpgid(0), signal.SIGKILL)  # the supervisor too: no outcome is left
