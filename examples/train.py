"""A small real training script: logistic regression by SGD on a two-moons-like data set.

It is an ordinary argparse script; under metaopt it reports the validation loss each epoch and
keeps a checkpoint, so an interrupted trial resumes where it stopped. Runs on its own too:

    python examples/train.py --lr 0.1 --l2 1e-4 --epochs 20
"""

from __future__ import annotations

import argparse
import math
import random

import metaopt


def make_data(n: int, seed: int) -> list[tuple[list[float], int]]:
    """Two interleaved half circles with noise, lifted by a few polynomial features."""
    rng = random.Random(seed)
    data = []
    for i in range(n):
        label = i % 2
        angle = rng.uniform(0, math.pi)
        x = math.cos(angle) + (1.0 if label else 0.0) + rng.gauss(0, 0.2)
        y = math.sin(angle) * (-1 if label else 1) + (0.5 if label else 0.0) + rng.gauss(0, 0.2)
        data.append(([1.0, x, y, x * x, y * y, x * y, x**3, y**3], label))
    return data


def loss(w: list[float], data: list[tuple[list[float], int]], l2: float) -> float:
    total = 0.0
    for features, label in data:
        z = sum(wi * fi for wi, fi in zip(w, features, strict=True))
        p = 1 / (1 + math.exp(-max(min(z, 30), -30)))
        total -= math.log(p if label else 1 - p + 1e-12) if p > 0 else 30
    return total / len(data) + l2 * sum(wi * wi for wi in w)


def sgd_epoch(
    w: list[float], data: list[tuple[list[float], int]], lr: float, l2: float, rng: random.Random
) -> None:
    for features, label in rng.sample(data, len(data)):
        z = sum(wi * fi for wi, fi in zip(w, features, strict=True))
        p = 1 / (1 + math.exp(-max(min(z, 30), -30)))
        for j, fj in enumerate(features):
            w[j] -= lr * ((p - label) * fj + 2 * l2 * w[j])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--l2", type=float, default=1e-4)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    train, val = make_data(400, args.seed), make_data(200, args.seed + 1)
    state = metaopt.load_checkpoint({"epoch": 0, "w": [0.0] * 8})
    rng = random.Random(args.seed + state["epoch"])
    for epoch in range(state["epoch"], args.epochs):
        sgd_epoch(state["w"], train, args.lr, args.l2, rng)
        val_loss = loss(state["w"], val, 0.0)
        if not math.isfinite(val_loss):
            val_loss = 1e3
        metaopt.report(epoch, val_loss=val_loss)
        state["epoch"] = epoch + 1
        metaopt.save_checkpoint(state)
    print(f"final val_loss {val_loss:.4f}")


if __name__ == "__main__":
    main()
