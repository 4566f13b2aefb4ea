#!/usr/bin/python3
"""The peer of the quality benchmark: scikit-learn's HistGradientBoosting with default settings.

Trained on the rows the pipeline's served model was fit on (its train and validation splits) and scored on the same
test split, with the dataset version's schema saying which column is what. Prints one JSON object of metrics named as
the pipeline names them (log-loss in nats). Run by the benchmark (dotnet run ... -- quality), not by hand.

With --served FILE (the served version's answers over HTTP to every test row, a JSON array in the test file's order) it
also scores those answers the same way ("served.<metric>", which the benchmark checks against the metrics the run
registered) and gives the 95% interval of served minus peer over 2,000 paired bootstrap resamples of the test rows
("low.<metric>", "high.<metric>"; seed 0): the difference a test split of this size can tell from noise.

With --export DIR it instead writes data sets the project was never tuned on, from the copies bundled with Debian's
scikit-learn (no download), as CSV files into DIR: diabetes.csv (regression, label progression), breast-cancer.csv
(binary, label diagnosis), wine-cultivar.csv (multiclass, label cultivar) and digits.csv (multiclass, label digit);
and from Debian's statsmodels anes96.csv (binary, label vote), grunfeld.csv (regression, label invest), fair.csv
(regression, label affairs) and co2.csv (regression, label co2, one date feature: the week).

Features: numbers as they are (missing as NaN, which HistGradientBoosting handles); booleans as 0/1; categories
ordinal-encoded and declared categorical (up to 255 levels, else used as ordinal numbers); text as TF-IDF with
scikit-learn's default vectorizer, made dense; dates as the seven parts the pipeline derives (date_parts). Hyperparameters are all defaults; random_state only fixes the
early-stopping holdout that defaults use above 10,000 rows.
"""
import csv
import datetime
import json
import math
import os
import re
import sys

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn import metrics as m

csv.field_size_limit(1 << 30)


def read(paths):
    rows, header = [], None
    for path in paths:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            h = next(reader)
            header = header or h
            rows.extend(reader)
    return header, rows


def number(text):
    try:
        return float(text) if text != "" else math.nan
    except ValueError:
        return math.nan


def date_parts(text):
    """A date cell as the seven numbers a careful scikit-learn user would derive (pandas' dt accessors), the parts the
    pipeline's models get: days since 1970 UTC, year, month, day, weekday (Sunday 0), hour, minute; NaN when unreadable."""
    try:
        when = datetime.datetime.fromisoformat(text.replace("Z", "+00:00").replace("/", "-"))
    except ValueError:
        return [math.nan] * 7
    instant = when if when.tzinfo else when.replace(tzinfo=datetime.timezone.utc)
    days = (instant - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)).total_seconds() / 86400
    return [days, when.year, when.month, when.day, (when.weekday() + 1) % 7, when.hour, when.minute]


def export(directory):
    """Writes scikit-learn's bundled data sets as CSV with a header; the label is the last column, classes by name."""
    from sklearn import datasets

    def write(name, names, data, label, values):
        with open(os.path.join(directory, name), "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow([re.sub(r"[^A-Za-z0-9_]+", "_", n) for n in names] + [label])
            for row, value in zip(data, values):
                writer.writerow([repr(float(x)) for x in row] + [value])

    diabetes = datasets.load_diabetes(scaled=False)
    write("diabetes.csv", diabetes.feature_names, diabetes.data, "progression", [repr(float(y)) for y in diabetes.target])
    cancer = datasets.load_breast_cancer()
    write("breast-cancer.csv", cancer.feature_names, cancer.data, "diagnosis", [cancer.target_names[y] for y in cancer.target])
    wine = datasets.load_wine()
    write("wine-cultivar.csv", wine.feature_names, wine.data, "cultivar", [wine.target_names[y] for y in wine.target])
    digits = datasets.load_digits()
    write("digits.csv", digits.feature_names, digits.data, "digit", ["d%d" % y for y in digits.target])
    # From Debian's statsmodels, as its loaders give them: the 1996 American National Election Study (expected vote,
    # 0 Clinton / 1 Dole; logpopul, which the loader derives from popul, left out), Grunfeld's investment data (a firm
    # column of names) and Fair's survey of affairs (6,366 rows: above the size the pipeline cross-validates).
    from statsmodels.datasets import anes96, co2, fair, grunfeld
    anes96.load_pandas().data.drop(columns=["logpopul"]).to_csv(os.path.join(directory, "anes96.csv"), index=False)
    grunfeld.load_pandas().data.to_csv(os.path.join(directory, "grunfeld.csv"), index=False)
    fair.load_pandas().data.to_csv(os.path.join(directory, "fair.csv"), index=False)
    # Weekly CO2 at Mauna Loa, 1958-2001: a data set whose only feature is a date. Weeks without a reading keep an
    # empty label, as the file would have them.
    with open(os.path.join(directory, "co2.csv"), "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["week", "co2"])
        for week, value in co2.load_pandas().data["co2"].items():
            writer.writerow([week.strftime("%Y-%m-%d"), "" if math.isnan(value) else repr(float(value))])
    # Three more from statsmodels: the RAND Health Insurance Experiment (20,190 rows: above the size the pipeline
    # cross-validates, so the winner is chosen on the validation split; label mdvis, visits to a doctor in a year, a
    # count), the California STAR test results of 1998 for 303 school districts (label pct_above, the share of pupils
    # above the national median in maths, NABOVE / (NABOVE + NBELOW), the two counts left out) and Engel's food
    # expenditure (235 households, one feature, income; label foodexp).
    from statsmodels.datasets import engel, randhie, star98
    randhie.load_pandas().data.to_csv(os.path.join(directory, "randhie.csv"), index=False)
    star = star98.load_pandas().data
    star.insert(len(star.columns), "pct_above", star["NABOVE"] / (star["NABOVE"] + star["NBELOW"]))
    star.drop(columns=["NABOVE", "NBELOW"]).to_csv(os.path.join(directory, "star98.csv"), index=False)
    engel.load_pandas().data.to_csv(os.path.join(directory, "engel.csv"), index=False)
    # And three drawn by scikit-learn's generators with a fixed random_state (the same rows on every export):
    # Friedman's first regression problem (2,000 rows, ten features of which five are noise, y = 10 sin(pi x1 x2)
    # + 20 (x3 - 0.5)^2 + 10 x4 + 5 x5 + N(0, 1)), Hastie et al.'s binary problem 10.2 (12,000 rows, ten standard
    # normal features, class plus where the sum of their squares exceeds 9.34: above the cross-validation limit) and a
    # four-class problem of make_classification (3,000 rows, twenty features: six informative, four redundant
    # combinations of them, ten noise; 5% of the labels flipped at random).
    x, y = datasets.make_friedman1(n_samples=2000, n_features=10, noise=1.0, random_state=0)
    write("friedman1.csv", ["x%d" % (i + 1) for i in range(10)], x, "y", [repr(float(v)) for v in y])
    x, y = datasets.make_hastie_10_2(n_samples=12000, random_state=0)
    write("hastie.csv", ["x%d" % (i + 1) for i in range(10)], x, "outcome", ["plus" if v > 0 else "minus" for v in y])
    x, y = datasets.make_classification(n_samples=3000, n_features=20, n_informative=6, n_redundant=4, n_classes=4,
                                        n_clusters_per_class=2, flip_y=0.05, random_state=0)
    write("four-classes.csv", ["x%d" % (i + 1) for i in range(20)], x, "group", ["g%d" % v for v in y])


def main():
    if sys.argv[1:2] == ["--export"]:
        export(sys.argv[2])
        return
    args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
    schema = json.load(open(args["--schema"], encoding="utf-8"))
    header, train = read(args["--train"].split(","))
    _, test = read([args["--test"]])
    index = {name: i for i, name in enumerate(header)}
    kinds = {c["name"]: c["kind"].lower() for c in schema["columns"]}
    label, task = schema["label"], schema["task"].lower()

    train_parts, test_parts, categorical = [], [], []
    for name in schema["features"]:
        i, kind = index[name], kinds[name]
        if kind == "text":
            vectorizer = TfidfVectorizer()
            train_parts.append(vectorizer.fit_transform([r[i] for r in train]).toarray())
            test_parts.append(vectorizer.transform([r[i] for r in test]).toarray())
            categorical.extend([False] * train_parts[-1].shape[1])
        elif kind == "categorical":
            levels = {v: k for k, v in enumerate(sorted({r[i] for r in train if r[i] != ""}))}
            train_parts.append(np.array([[levels.get(r[i], math.nan)] for r in train], dtype=float))
            test_parts.append(np.array([[levels.get(r[i], math.nan)] for r in test], dtype=float))
            categorical.append(len(levels) <= 255)
        elif kind == "datetime":
            train_parts.append(np.array([date_parts(r[i]) for r in train], dtype=float))
            test_parts.append(np.array([date_parts(r[i]) for r in test], dtype=float))
            categorical.extend([False] * 7)
        elif kind == "boolean":
            flag = lambda v: math.nan if v == "" else float(v.lower() in ("true", "1", "yes", "y", "t"))
            train_parts.append(np.array([[flag(r[i])] for r in train]))
            test_parts.append(np.array([[flag(r[i])] for r in test]))
            categorical.append(False)
        else:
            train_parts.append(np.array([[number(r[i])] for r in train]))
            test_parts.append(np.array([[number(r[i])] for r in test]))
            categorical.append(False)
    x_train, x_test = np.hstack(train_parts), np.hstack(test_parts)
    mask = np.array(categorical) if any(categorical) else None
    li = index[label]
    labelled = [r[li] != "" for r in test]
    train = [(x, r[li]) for x, r in zip(x_train, train) if r[li] != ""]
    test = [(x, r[li]) for x, r in zip(x_test, test) if r[li] != ""]
    x_train, x_test = np.array([x for x, _ in train]), np.array([x for x, _ in test])
    y_test = [y for _, y in test]

    if task == "regression":
        model = HistGradientBoostingRegressor(categorical_features=mask, random_state=42).fit(x_train, np.array([float(y) for _, y in train]))
        peer = {"score": model.predict(x_test)}
        classes = None
    else:
        model = HistGradientBoostingClassifier(categorical_features=mask, random_state=42).fit(x_train, [y for _, y in train])
        classes = list(model.classes_)
        peer = {"proba": model.predict_proba(x_test), "label": list(model.predict(x_test))}
    positive = (schema.get("positiveClass") or schema["classes"][1]) if task == "binary" else None

    everything = np.arange(len(y_test))
    result = measure(task, y_test, peer, classes, positive, everything)
    if "--served" in args:
        # The served model's answers over HTTP, one per row of the test file: scored as the peer is, and the difference
        # served - peer over paired bootstrap resamples of the test rows (the same rows drawn for both), 2,000 of them.
        answers = [a for a, keep in zip(json.load(open(args["--served"], encoding="utf-8")), labelled) if keep]
        served = answered(task, answers, classes, positive)
        ours = measure(task, y_test, served, classes, positive, everything)
        result.update({"served." + k: v for k, v in ours.items()})
        rng = np.random.default_rng(0)
        differences = {k: [] for k in ours}
        for _ in range(2000):
            rows = rng.integers(0, len(y_test), len(y_test))
            a, b = measure(task, y_test, served, classes, positive, rows), measure(task, y_test, peer, classes, positive, rows)
            for k in differences:
                if not (math.isnan(a[k]) or math.isnan(b[k])):
                    differences[k].append(a[k] - b[k])
        for k, d in differences.items():
            if d:
                result["low." + k], result["high." + k] = float(np.percentile(d, 2.5)), float(np.percentile(d, 97.5))
    result["trainRows"], result["testRows"] = len(train), len(test)
    print(json.dumps(result))


def answered(task, answers, classes, positive):
    """The served answers in the peer's form: regression scores; class labels and probabilities, ordered as the peer's
    classes (a binary answer's probability is its positive class's)."""
    if task == "regression":
        return {"score": np.array([a["score"] for a in answers], dtype=float)}
    labels = [a["label"] for a in answers]
    if task == "binary":
        p = np.array([a.get("probability", math.nan) for a in answers], dtype=float)
        column = classes.index(positive)
        proba = np.zeros((len(answers), 2))
        proba[:, column], proba[:, 1 - column] = p, 1 - p
        return {"proba": proba, "label": labels}
    return {"proba": np.array([[a["probabilities"].get(c, 0.0) for c in classes] for a in answers], dtype=float), "label": labels}


def measure(task, y, out, classes, positive, rows):
    """The pipeline's metrics of one model's outputs on the test rows at the indices given (a bootstrap draw repeats rows);
    NaN where a draw cannot give one (an AUC with one class)."""
    truth = [y[i] for i in rows]
    if task == "regression":
        t, p = np.array([float(v) for v in truth]), out["score"][rows]
        return {"rmse": math.sqrt(m.mean_squared_error(t, p)), "mae": m.mean_absolute_error(t, p), "r2": m.r2_score(t, p)}
    proba, predicted = out["proba"][rows], [out["label"][i] for i in rows]
    if task == "binary":
        column = classes.index(positive)
        flags = [1 if v == positive else 0 for v in truth]
        both = 0 < sum(flags) < len(flags)
        finite = not np.isnan(proba[:, column]).any()
        return {
            "auc": m.roc_auc_score(flags, proba[:, column]) if both and finite else math.nan,
            "accuracy": m.accuracy_score(truth, predicted),
            "f1": m.f1_score(flags, [1 if v == positive else 0 for v in predicted], zero_division=0),
            "logLoss": m.log_loss(flags, np.clip(proba[:, column], 1e-15, 1 - 1e-15), labels=[0, 1]) if finite else math.nan,
        }
    with np.errstate(all="ignore"):
        return {
            "macroAccuracy": m.balanced_accuracy_score(truth, predicted),
            "microAccuracy": m.accuracy_score(truth, predicted),
            "logLoss": m.log_loss(truth, np.clip(proba, 1e-15, 1), labels=classes),
        }


if __name__ == "__main__":
    main()
