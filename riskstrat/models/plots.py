"""Evaluation plots as PNG files (matplotlib, Agg backend): reliability, ROC, PR, SHAP summary."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.metrics import precision_recall_curve, roc_curve


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def reliability_plot(curves: Mapping[str, pd.DataFrame], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(5.5, 5))
    top = max(float(max(c["predicted"].max(), c["observed"].max())) for c in curves.values())
    ax.plot([0, top], [0, top], color="grey", linestyle=":", label="perfect")
    for name, c in curves.items():
        ax.plot(c["predicted"], c["observed"], marker="o", label=name)
    ax.set(xlabel="mean predicted risk", ylabel="observed rate", title="Reliability (test)")
    ax.legend(fontsize=8)
    return _save(fig, path)


def roc_plot(y: np.ndarray, scores: Mapping[str, np.ndarray], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":")
    for name, p in scores.items():
        fpr, tpr, _ = roc_curve(y, p)
        ax.plot(fpr, tpr, label=name)
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC (test)")
    ax.legend(fontsize=8)
    return _save(fig, path)


def pr_plot(y: np.ndarray, scores: Mapping[str, np.ndarray], path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.axhline(float(np.mean(y)), color="grey", linestyle=":", label="prevalence")
    for name, p in scores.items():
        precision, recall, _ = precision_recall_curve(y, p)
        ax.plot(recall, precision, label=name)
    ax.set(xlabel="recall", ylabel="precision", title="Precision-recall (test)")
    ax.legend(fontsize=8)
    return _save(fig, path)


def shap_summary_plot(contrib: pd.DataFrame, path: Path, *, top: int = 20) -> Path:
    """Mean |SHAP| (log-odds) per feature on a sample of test rows: global importance."""
    importance = contrib.drop(columns=["bias"]).abs().mean().sort_values().tail(top)
    fig, ax = plt.subplots(figsize=(6.5, 0.3 * len(importance) + 1.2))
    ax.barh(importance.index, importance.to_numpy())
    ax.set(xlabel="mean |SHAP value| (log-odds)", title="Global feature importance (SHAP)")
    return _save(fig, path)


def global_importance(contrib: pd.DataFrame) -> pd.DataFrame:
    imp = contrib.drop(columns=["bias"]).abs().mean().sort_values(ascending=False)
    return imp.rename("mean_abs_shap").rename_axis("feature").reset_index()
