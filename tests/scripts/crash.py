"""A trial that fails: prints a recognizable error and exits with code 3."""

import argparse
import sys

parser = argparse.ArgumentParser()
parser.add_argument("--x", type=float)
args = parser.parse_args()
print(f"boom: x={args.x} is not welcome", file=sys.stderr)
sys.exit(3)
