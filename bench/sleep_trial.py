"""A trial of fixed length: it sleeps, then reports one loss. The cluster benchmark's workload."""

import argparse
import time

import metaopt

parser = argparse.ArgumentParser()
parser.add_argument("--x", type=float, required=True)
parser.add_argument("--y", type=float, required=True)
parser.add_argument("--sleep", type=float, default=2.0)
args = parser.parse_args()
time.sleep(args.sleep)
metaopt.report(0, loss=(args.x - 0.3) ** 2 + (args.y - 0.7) ** 2)
