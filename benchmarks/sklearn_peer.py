#!/usr/bin/python3
"""The single-machine peer of the project's train + select (benchmarks/train_vs_sklearn.sh).

Reads the labelled snapshot exported by the benchmark (CSV parts with the project's own split and
CV fold columns) and the project run's manifest.json (features, grids, folds, seed), then does
what the project's default train + select do, with scikit-learn on the same rows:
  * preprocessing per family: median imputation of numbers, one-hot of categories (unseen values
    ignored, nulls a category of their own), standard scaling for logistic regression;
  * for every candidate family of the run, a grid search over the project's grid with the
    project's stratified folds (PredefinedSplit on its __fold column), ranked by mean AUC-ROC;
  * the best grid point refitted on the whole training split (as the project's final models);
  * select: the top-n voters by validation AUC-ROC, their probabilities averaged (combine = mean;
    Platt calibration is monotone and leaves the AUC unchanged), test AUC-ROC of that ensemble.
Writes a JSON summary. Two cores: grid points run two at a time, one thread each.

Family mapping (project -> scikit-learn), grid keys from propensity.train.<family>:
  logistic       LogisticRegression (elastic net: saga; ridge: lbfgs), C = 1 / (n_train * reg-param)
  random-forest  RandomForestClassifier (gini; num-trees, max-depth, min-instances-per-node as
                 min_samples_leaf, feature-subset-strategy as max_features)
  xgboost-rf     the same RandomForestClassifier with xgboost-rf's grid (the project's forest
                 grown by XGBoost; its peer stays scikit-learn's classic forest)
  gbt            HistGradientBoostingClassifier (max-depth, step-size as learning_rate,
                 min-instances-per-node as min_samples_leaf, max-iter, early stopping on
                 validation-fraction)
  xgboost        xgboost.XGBClassifier (hist; the same grid keys; early stopping on a hold-out of
                 gbt.validation-fraction)
"""
import argparse
import glob
import json
import os
import sys
import time

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GridSearchCV, PredefinedSplit
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler


def log(msg):
    print(f"sklearn_peer: {msg}", file=sys.stderr, flush=True)


def preprocessing(numeric, categorical, scale):
    steps = [SimpleImputer(strategy="median")]
    if scale:
        steps.append(StandardScaler())
    num = Pipeline([(f"s{i}", s) for i, s in enumerate(steps)])
    cat_steps = [("ohe", OneHotEncoder(handle_unknown="ignore", sparse_output=False))]
    if scale:
        cat_steps.append(("scale", StandardScaler()))
    return ColumnTransformer([("num", num, numeric), ("cat", Pipeline(cat_steps), categorical)])


def family(name, train, n_train, seed):
    """(estimator, param grid, needs scaling) for a project family."""
    if name == "logistic":
        grid = []
        for reg in train["logistic"]["reg-param"]:
            for enet in train["logistic"]["elastic-net-param"]:
                c = 1.0 / (n_train * reg)
                if enet > 0:
                    grid.append({"clf__C": [c], "clf__l1_ratio": [enet], "clf__penalty": ["elasticnet"],
                                 "clf__solver": ["saga"]})
                else:
                    grid.append({"clf__C": [c], "clf__penalty": ["l2"], "clf__solver": ["lbfgs"]})
        est = LogisticRegression(max_iter=train["logistic"]["max-iter"], tol=train["logistic"]["tol"])
        return est, grid, True
    if name in ("random-forest", "xgboost-rf"):
        rf = train[name]
        est = RandomForestClassifier(random_state=seed, n_jobs=1)
        grid = {"clf__n_estimators": rf["num-trees"], "clf__max_depth": rf["max-depth"],
                "clf__min_samples_leaf": rf["min-instances-per-node"],
                "clf__max_features": [m if m in ("sqrt", "log2") else (None if m == "all" else float(m))
                                      for m in rf["feature-subset-strategy"]]}
        return est, grid, False
    if name == "gbt":
        g = train["gbt"]
        est = HistGradientBoostingClassifier(
            max_iter=g["max-iter"], max_bins=min(255, g["max-bins"] - 1) if g["max-bins"] > 2 else 255,
            early_stopping=g["validation-fraction"] > 0,
            validation_fraction=g["validation-fraction"] if g["validation-fraction"] > 0 else None,
            tol=g["validation-tol"], random_state=seed)
        grid = {"clf__max_depth": g["max-depth"], "clf__learning_rate": g["step-size"],
                "clf__min_samples_leaf": g["min-instances-per-node"]}
        return est, grid, False
    if name == "xgboost":
        import xgboost
        x = train["xgboost"]
        est = xgboost.XGBClassifier(
            n_estimators=x["num-round"], tree_method="hist", max_bin=x["max-bin"], n_jobs=1,
            random_state=seed, eval_metric="logloss")
        grid = {"clf__max_depth": x["max-depth"], "clf__learning_rate": x["eta"],
                "clf__min_child_weight": x["min-child-weight"], "clf__subsample": x["subsample"],
                "clf__colsample_bytree": x["colsample-bytree"], "clf__reg_lambda": x["lambda"]}
        return est, grid, False
    raise SystemExit(f"sklearn_peer: no peer for candidate family '{name}' (known: logistic,"
                     " random-forest, xgboost-rf, gbt, xgboost)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True, help="folder of the exported CSV parts")
    ap.add_argument("--manifest", required=True, help="the project run's manifest.json")
    ap.add_argument("--out", required=True, help="where to write the JSON summary")
    args = ap.parse_args()
    start = time.time()

    manifest = json.load(open(args.manifest))
    settings = manifest["settings"]["propensity"]
    train_cfg = settings["train"]
    numeric = manifest["features"]["numeric"]
    categorical = manifest["features"]["categorical"]
    candidates = manifest["candidates"]
    seed = int(manifest["seed"])
    top_n = int(settings["select"]["top-n"])

    parts = sorted(glob.glob(os.path.join(args.data, "*.csv")))
    if not parts:
        raise SystemExit(f"sklearn_peer: no CSV parts in {args.data}")
    dtypes = {c: "string" for c in categorical}
    df = pd.concat([pd.read_csv(p, dtype=dtypes) for p in parts], ignore_index=True)
    for c in categorical:
        df[c] = df[c].astype(object).where(df[c].notna(), np.nan)
    tr = df[df["__split"] == "train"].reset_index(drop=True)
    va = df[df["__split"] == "validation"]
    te = df[df["__split"] == "test"]
    features = numeric + categorical
    log(f"{len(df)} rows ({len(tr)} train, {len(va)} validation, {len(te)} test), "
        f"{len(numeric)} numeric + {len(categorical)} categorical features; read in "
        f"{time.time() - start:.1f} s")
    expected = manifest["splits"]["counts"]["train"]["rows"]
    if len(tr) != expected:
        raise SystemExit(f"sklearn_peer: {len(tr)} training rows, the project's run had {expected}:"
                         " the export does not match the run")

    folds = PredefinedSplit(tr["__fold"].to_numpy())
    y_tr, y_va, y_te = tr["__label"].to_numpy(), va["__label"].to_numpy(), te["__label"].to_numpy()
    results = []
    for name in candidates:
        t0 = time.time()
        est, grid, scale = family(name, train_cfg, len(tr), seed)
        pipe = Pipeline([("pre", preprocessing(numeric, categorical, scale)), ("clf", est)])
        search = GridSearchCV(pipe, grid, scoring="roc_auc", cv=folds, n_jobs=2, refit=False)
        search.fit(tr[features], y_tr)
        best = search.cv_results_["params"][int(np.argmax(search.cv_results_["mean_test_score"]))]
        cv_mean = float(np.max(search.cv_results_["mean_test_score"]))
        final = pipe.set_params(**best)
        if name == "xgboost" and train_cfg["xgboost"]["early-stopping-rounds"] > 0:
            final = fit_xgboost_early_stopping(final, tr, features, y_tr, train_cfg, seed)
        else:
            final.fit(tr[features], y_tr)
        p_va = final.predict_proba(va[features])[:, 1]
        p_te = final.predict_proba(te[features])[:, 1]
        r = {"candidate": name, "seconds": time.time() - t0, "grid_points": len(search.cv_results_["params"]),
             "best": {k.replace("clf__", ""): v for k, v in best.items()}, "cv_auc_roc": cv_mean,
             "validation_auc_roc": float(roc_auc_score(y_va, p_va)),
             "test_auc_roc": float(roc_auc_score(y_te, p_te)), "p_va": p_va, "p_te": p_te}
        log(f"{name}: {r['grid_points']} grid points, cv {cv_mean:.4f}, validation "
            f"{r['validation_auc_roc']:.4f}, test {r['test_auc_roc']:.4f} in {r['seconds']:.0f} s")
        results.append(r)

    voters = sorted(results, key=lambda r: -r["validation_auc_roc"])[:top_n]
    p_va = np.mean([v["p_va"] for v in voters], axis=0)
    p_te = np.mean([v["p_te"] for v in voters], axis=0)
    summary = {
        "voters": [v["candidate"] for v in voters],
        "ensemble_validation_auc_roc": float(roc_auc_score(y_va, p_va)),
        "ensemble_test_auc_roc": float(roc_auc_score(y_te, p_te)),
        "candidates": [{k: v for k, v in r.items() if not k.startswith("p_")} for r in results],
        "rows": {"train": len(tr), "validation": len(va), "test": len(te)},
        "seconds": time.time() - start,
    }
    json.dump(summary, open(args.out, "w"), indent=2, default=str)
    log(f"ensemble {summary['voters']}: test auc {summary['ensemble_test_auc_roc']:.4f} "
        f"({summary['seconds']:.0f} s)")


def fit_xgboost_early_stopping(pipe, tr, features, y, train_cfg, seed):
    """The project's xgboost hold-out: gbt.validation-fraction of the training rows."""
    fraction = train_cfg["gbt"]["validation-fraction"]
    rng = np.random.default_rng(seed)
    hold = rng.random(len(tr)) < fraction
    pre = pipe.named_steps["pre"].fit(tr[features][~hold], y[~hold])
    clf = pipe.named_steps["clf"]
    clf.set_params(early_stopping_rounds=train_cfg["xgboost"]["early-stopping-rounds"])
    clf.fit(pre.transform(tr[features][~hold]), y[~hold],
            eval_set=[(pre.transform(tr[features][hold]), y[hold])], verbose=False)
    return pipe


if __name__ == "__main__":
    main()
