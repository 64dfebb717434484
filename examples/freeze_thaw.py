"""Early stopping with freeze-thaw: a scikit-learn MLP on the digits bundled with scikit-learn.

Each epoch is one pass of ``partial_fit``; the script reports the validation loss, checkpoints
the model, and exits with ``metaopt.FROZEN_EXIT`` when ``report`` says the trial is paused. A
thawed trial gets its model back from ``load_checkpoint`` and goes on from the next epoch, on
whichever node thaws it:

    metaopt --algo asha --max-trials 27 examples/freeze_thaw.py \\
        --lr~'loguniform(1e-4, 1e-1)' --alpha~'loguniform(1e-6, 1e-1)' \\
        --hidden~'choice(16, 32, 64)' --epochs~'fidelity(1, 27, base=3)'
    metaopt status        # the frozen column counts the paused trials

Runs on its own too (no checkpoint is kept): ``python examples/freeze_thaw.py --epochs 5``.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
from sklearn.datasets import load_digits
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

import metaopt


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--alpha", type=float, default=1e-4)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=27)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    x, y = load_digits(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(
        x / 16.0, y, test_size=0.3, random_state=args.seed, stratify=y
    )
    classes = np.unique(y)
    state = metaopt.load_checkpoint(None)  # a thawed trial: its model and the epochs it trained
    if state is None:
        model = MLPClassifier(
            hidden_layer_sizes=(args.hidden,),
            learning_rate_init=args.lr,
            alpha=args.alpha,
            batch_size=64,
            random_state=args.seed,
        )
        state = {"epoch": 0, "model": model}
    model = state["model"]
    for epoch in range(state["epoch"], args.epochs):
        model.partial_fit(x_train, y_train, classes=classes)
        val_loss = float(log_loss(y_val, model.predict_proba(x_val), labels=classes))
        accuracy = float(model.score(x_val, y_val))
        go_on = metaopt.report(epoch, val_loss=val_loss, accuracy=accuracy)
        # after the report: a kill in between repeats this epoch, never skips one
        metaopt.save_checkpoint({"epoch": epoch + 1, "model": model})
        if not go_on:
            sys.exit(metaopt.FROZEN_EXIT)
    print(f"val_loss {val_loss:.4f}, accuracy {accuracy:.3f}")


if __name__ == "__main__":
    main()
