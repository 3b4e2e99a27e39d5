"""Train a classifier on scikit-learn's bundled digits data and log every kind of metric.

python train.py --C 1.0 --sweep 0.1 1 10
"""

from __future__ import annotations

import argparse
import os
import pickle

from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, confusion_matrix
from sklearn.model_selection import train_test_split

from jupyter_aml import Run


def fit(c: float, x_train, y_train, x_test, y_test) -> tuple[LogisticRegression, float]:
    model = LogisticRegression(C=c, max_iter=200)
    model.fit(x_train, y_train)
    return model, float(accuracy_score(y_test, model.predict(x_test)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--C", type=float, default=1.0)
    parser.add_argument("--sweep", type=float, nargs="*", default=[])
    args = parser.parse_args()

    run = Run.get_context()
    digits = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        digits.data / 16.0, digits.target, test_size=0.25, random_state=0
    )
    print(f"training on {len(x_train)} images, testing on {len(x_test)}")
    run.log("C", args.C, description="inverse regularisation strength")
    for step, fraction in enumerate((0.25, 0.5, 1.0)):
        n = int(len(x_train) * fraction)
        _, acc = fit(args.C, x_train[:n], y_train[:n], x_test, y_test)
        run.log("accuracy", acc, step=step)
        run.log_row("learning_curve", samples=n, accuracy=acc)
    model, acc = fit(args.C, x_train, y_train, x_test, y_test)
    run.log("final_accuracy", acc)
    run.log_list("class_counts", [int((y_train == k).sum()) for k in range(10)])
    matrix = confusion_matrix(y_test, model.predict(x_test))
    run.log_table("confusion", {str(k): [int(v) for v in matrix[:, k]] for k in range(10)})
    run.tag("model", "logistic-regression")

    for c in args.sweep:  # a small sweep as child runs
        child = run.child_run(name=f"C={c}")
        _, child_acc = fit(c, x_train, y_train, x_test, y_test)
        child.log("C", c)
        child.log("accuracy", child_acc)
        child.complete()
        print(f"child C={c}: accuracy {child_acc:.4f}")

    os.makedirs("outputs", exist_ok=True)
    with open("outputs/model.pkl", "wb") as handle:
        pickle.dump(model, handle)
    print(f"final accuracy {acc:.4f}")


if __name__ == "__main__":
    main()
