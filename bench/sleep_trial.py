"""A trial of known length for bench/cluster.py: sleeps, then reports one loss."""

import argparse
import time

import metaopt

parser = argparse.ArgumentParser()
parser.add_argument("--x", type=float, required=True)
parser.add_argument("--sleep", type=float, default=2.0)
args = parser.parse_args()
time.sleep(args.sleep)
metaopt.report(0, loss=(args.x - 0.3) ** 2)
