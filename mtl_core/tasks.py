"""TaskSpec: what one task learns (a column, its kind, an optional derive rule), its loss and metrics."""

from __future__ import annotations

from typing import Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, model_validator

Kind: TypeAlias = Literal["regression", "binary", "multiclass"]
LossName: TypeAlias = Literal["mse", "l1", "smooth_l1", "bce", "cross_entropy"]
MetricName: TypeAlias = Literal["mse", "rmse", "mae", "r2", "accuracy", "f1", "precision", "recall", "auc"]

LOSSES_BY_KIND: dict[str, tuple[str, ...]] = {
    "regression": ("mse", "l1", "smooth_l1"),
    "binary": ("bce", "cross_entropy"),
    "multiclass": ("cross_entropy",),
}
REGRESSION_METRICS: tuple[str, ...] = ("mse", "rmse", "mae", "r2")
CLASSIFICATION_METRICS: tuple[str, ...] = ("accuracy", "f1", "precision", "recall", "auc")
HIGHER_IS_BETTER: dict[str, bool] = {
    "mse": False, "rmse": False, "mae": False, "r2": True,
    "accuracy": True, "f1": True, "precision": True, "recall": True, "auc": True,
}


def higher_is_better(metric: str) -> bool:
    """Whether a larger value of ``metric`` is better (r2 and the classification metrics).

    >>> higher_is_better("mse"), higher_is_better("auc")
    (False, True)
    """
    return HIGHER_IS_BETTER[metric]


def metrics_for(kind: str) -> tuple[str, ...]:
    """The metric names that apply to a task of this kind."""
    return REGRESSION_METRICS if kind == "regression" else CLASSIFICATION_METRICS


class TaskSpec(BaseModel):
    """One task: the column it learns, its kind, how its label is derived, its loss and metrics.

    A derived task turns a column into labels: ``threshold`` gives the binary label
    ``column >= threshold``; ``equals`` the binary label ``column == value`` (one category
    against the rest); ``bins`` as increasing cut points give the class ``k`` of the interval a
    value falls in, as ``numpy.digitize`` does, and as a number K give K quantile classes (edges
    from the training rows only). ``task_id`` marks a routed task: a row is labelled for it only
    where the data's ``task_id_column`` equals this value (default: the task's name).
    Unset ``loss``, ``metrics`` and ``metric`` take the defaults of the kind
    (mse / bce / cross_entropy; all metrics; mse or accuracy).

    >>> TaskSpec(name="good", column="quality", kind="binary", threshold=6).loss
    'bce'
    """

    model_config = ConfigDict(frozen=True, extra="forbid", coerce_numbers_to_str=True)  # column 2010 is a name

    name: str = Field(min_length=1, max_length=64, pattern=r"^\S(.*\S)?$")
    column: str = Field(min_length=1)
    kind: Kind = "regression"
    loss: LossName | None = None
    threshold: float | None = None
    equals: str | float | None = None
    bins: tuple[float, ...] | int | None = None
    task_id: str | int | None = None
    metrics: tuple[MetricName, ...] | None = None
    metric: MetricName | None = None
    standardize: bool = False  # regression: learn the z-scored target (statistics of train rows)

    @model_validator(mode="after")
    def _check_kind_rules(self) -> TaskSpec:
        problems = self._rule_problems()
        if problems:  # "@field: message" lets the config error name the key, e.g. tasks.0.loss
            raise ValueError("; ".join(f"@{field}: {message}" for field, message in problems))
        defaults: dict[str, Any] = {}
        if self.loss is None:
            defaults["loss"] = LOSSES_BY_KIND[self.kind][0]
        if self.metrics is None:
            defaults["metrics"] = metrics_for(self.kind)
        if self.metric is None:
            defaults["metric"] = "mse" if self.kind == "regression" else "accuracy"
        for key, value in defaults.items():
            object.__setattr__(self, key, value)  # filling defaults of a frozen model once, at creation
        return self

    def _rule_problems(self) -> list[tuple[str, str]]:
        problems = []
        if self.loss is not None and self.loss not in LOSSES_BY_KIND[self.kind]:
            allowed = ", ".join(LOSSES_BY_KIND[self.kind])
            problems.append(("loss", f"loss {self.loss!r} does not fit a {self.kind} task (use one of: {allowed})"))
        if self.threshold is not None and self.kind != "binary":
            problems.append(("threshold", f"threshold derives a binary label, but kind is {self.kind!r}: set kind = \"binary\""))
        if self.equals is not None and self.kind != "binary":
            problems.append(("equals", f"equals derives a binary label, but kind is {self.kind!r}: set kind = \"binary\""))
        if self.bins is not None:
            if self.kind != "multiclass":
                problems.append(("bins", f"bins derive classes, but kind is {self.kind!r}: set kind = \"multiclass\""))
            if isinstance(self.bins, int) and self.bins < 2:
                problems.append(("bins", f"bins = {self.bins} quantile classes: give at least 2"))
            if isinstance(self.bins, tuple) and (len(self.bins) == 0 or list(self.bins) != sorted(set(self.bins))):
                problems.append(("bins", f"bins = {list(self.bins)} must be strictly increasing cut points"))
        rules = [name for name in ("threshold", "equals", "bins") if getattr(self, name) is not None]
        if len(rules) > 1:
            problems.append((rules[1], f"give one derive rule, not {' and '.join(rules)}"))
        if self.standardize and self.kind != "regression":
            problems.append(("standardize", "standardize applies to regression tasks only"))
        for metric in (self.metrics or ()) + ((self.metric,) if self.metric else ()):
            if metric not in metrics_for(self.kind):
                problems.append(("metrics", f"metric {metric!r} does not apply to a {self.kind} task"))
        return problems

    @property
    def is_classification(self) -> bool:
        """True for binary and multiclass tasks."""
        return self.kind != "regression"

    @property
    def derived(self) -> bool:
        """True when the label is computed from the column (threshold, equals or bins)."""
        return self.threshold is not None or self.equals is not None or self.bins is not None

    @property
    def quantile_bins(self) -> int | None:
        """K when the task's classes are K quantiles of its column, else None."""
        return self.bins if isinstance(self.bins, int) and not isinstance(self.bins, bool) else None
