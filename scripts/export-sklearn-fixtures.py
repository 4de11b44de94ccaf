"""Fit scikit-learn's IsolationForest on small data sets and write its trees and expected outputs.

Run with the project's venv: `npm run fixtures:sklearn` (.venv/bin/python scripts/export-sklearn-fixtures.py).
Writes test/fixtures/sklearn/<case>.json: the fitted trees (children_left/right, feature, threshold,
n_node_samples), estimators_features_, offset_, max_samples_, and score_samples, decision_function and
predict for the training X and an extra test X. Floats are written with repr (shortest round-trip).
"""
import json
import os

import numpy as np
import sklearn
from sklearn.ensemble import IsolationForest

OUT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "sklearn"))


def floats(a):
    return [float(v) for v in np.asarray(a, dtype=np.float64).ravel()]


def ints(a):
    return [int(v) for v in np.asarray(a).ravel()]


def export(name, X, X_test, **params):
    model = IsolationForest(**params).fit(X)
    estimators = []
    for est in model.estimators_:
        t = est.tree_
        estimators.append({
            "children_left": ints(t.children_left),
            "children_right": ints(t.children_right),
            "feature": ints(t.feature),
            "threshold": floats(t.threshold),
            "n_node_samples": ints(t.n_node_samples),
        })
    out = {
        "case": name,
        "sklearn_version": sklearn.__version__,
        "params": {k: v for k, v in params.items()},
        "n_features_in": int(model.n_features_in_),
        "max_samples_": int(model.max_samples_),
        "offset_": float(model.offset_),
        "estimators_features": [ints(f) for f in model.estimators_features_],
        "estimators": estimators,
        "train": {
            "X": [floats(r) for r in X],
            "score_samples": floats(model.score_samples(X)),
            "decision_function": floats(model.decision_function(X)),
            "predict": ints(model.predict(X)),
        },
        "test": {
            "X": [floats(r) for r in X_test],
            "score_samples": floats(model.score_samples(X_test)),
            "decision_function": floats(model.decision_function(X_test)),
            "predict": ints(model.predict(X_test)),
        },
    }
    path = os.path.join(OUT, name + ".json")
    with open(path, "w") as fh:
        json.dump(out, fh, separators=(",", ":"))
    print(f"{path}: {os.path.getsize(path)} bytes")


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.RandomState(42)

    # 1. Random Gaussian data with a few outliers; contamination 'auto'.
    X = np.vstack([rng.normal(0, 1, size=(150, 3)), rng.uniform(-6, 6, size=(10, 3))])
    X_test = np.vstack([rng.normal(0, 1, size=(30, 3)), rng.uniform(-8, 8, size=(10, 3))])
    export("random_auto", X, X_test, n_estimators=15, random_state=0)

    # 2. Same kind of data, contamination 0.1 (offset = 10th percentile of training scores).
    X = np.vstack([rng.normal(5, 2, size=(180, 4)), rng.normal(20, 1, size=(20, 4))])
    X_test = np.vstack([rng.normal(5, 2, size=(30, 4)), rng.normal(15, 5, size=(10, 4))])
    export("contamination_0.1", X, X_test, n_estimators=15, contamination=0.1, random_state=1)

    # 3. Duplicate rows, a duplicated column and a constant column; values not exact in float32.
    base = np.round(rng.exponential(1000, size=(120, 2)), 0)
    X = np.column_stack([base[:, 0], base[:, 0], np.full(120, 7.3), base[:, 1] / 3.0])
    X = np.vstack([X, X[:20]])
    X_test = np.column_stack([rng.exponential(1000, 25), rng.exponential(1000, 25), np.full(25, 7.3),
                              rng.normal(300, 200, 25) / 3.0])
    export("duplicates_constant", X, X_test, n_estimators=15, contamination=0.05, random_state=2)

    # 4. max_samples and max_features set (each tree sees a column subset), contamination 0.2.
    X = rng.lognormal(2, 1, size=(300, 5))
    X_test = rng.lognormal(2, 1.5, size=(40, 5))
    export("max_samples_features", X, X_test, n_estimators=20, max_samples=64, max_features=0.6,
           contamination=0.2, random_state=3)

    # 5. Bootstrap and a fractional max_samples.
    X = rng.standard_t(3, size=(200, 3))
    X_test = rng.standard_t(2, size=(30, 3))
    export("bootstrap_fraction", X, X_test, n_estimators=15, max_samples=0.5, bootstrap=True,
           random_state=4)


if __name__ == "__main__":
    main()
