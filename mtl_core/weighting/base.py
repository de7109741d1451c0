"""Base classes of weighting strategies, the step context they read, and hyper-parameter validation."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal, TypeAlias

import torch
from pydantic import Field
from torch import Tensor

from mtl_core.settings import hparam_model, hparam_names, validate  # the first two re-exported: strategies use them

Jacobian: TypeAlias = Tensor  # [T, P]: one row per task, the gradient of its loss w.r.t. the shared parameters
Losses: TypeAlias = Tensor  # [T]
Space: TypeAlias = Annotated[Literal["parameters", "representation"], Field(description=(
    "where the task gradients are taken: 'parameters' gives each task's exact gradient of the shared parameters, "
    "where the method's guarantee holds; 'representation' differentiates w.r.t. the shared representation, "
    "one backward through the trunk: much faster, an approximation of the parameter-space Jacobian"))]


@dataclass(frozen=True, slots=True)
class StepContext:
    """What a loss-based strategy may read at one optimisation step (plain values, never the trainer)."""

    epoch: int  # 1-based
    step: int  # 0-based count of optimisation steps so far in the run
    task_names: tuple[str, ...]
    epoch_losses: tuple[tuple[float, ...], ...] = ()  # mean train loss per finished epoch, [E][T]
    initial_losses: tuple[float, ...] | None = None  # the losses of the run's first step, [T]
    last_layer_grad_norms: Tensor | None = None  # [T], ‖∇_W L_t‖ on the last shared layer, when asked for
    present: tuple[bool, ...] | None = None  # tasks with labelled rows in this batch; None: all of them
    shared_grad_norms: Callable[[], Tensor] | None = None  # [T] ‖∇_θs L_t‖ over all shared parameters,
    #                                                        differentiable (create_graph), when asked for

    def present_mask(self, like: Tensor) -> Tensor:
        """[T] bool on ``like``'s device: True for tasks labelled in this batch."""
        if self.present is None:
            return torch.ones(len(self.task_names), dtype=torch.bool, device=like.device)
        return torch.tensor(self.present, dtype=torch.bool, device=like.device)


class Strategy:
    """A weighting strategy. Hyper-parameters are the ``__init__`` keywords, stored under the same names."""

    kind: ClassVar[Literal["loss", "gradient"]]
    claims: ClassVar[frozenset[str]] = frozenset()  # properties the paper proves; checked by tests/properties
    # hyper-parameters, besides the defaults, under which tests/properties also checks ``claims_held()``
    claim_settings: ClassVar[tuple[dict[str, Any], ...]] = ()
    grad_norms: ClassVar[Literal["last_layer", "shared"] | None] = None  # what StepContext must carry

    def reset(self) -> None:
        """Forget everything learned during a run (state attributes end in ``_``)."""

    def check_tasks(self, task_names: Sequence[str]) -> None:
        """Raise ConfigError when the hyper-parameters do not fit these tasks (e.g. weights per task)."""

    def after_step(self) -> None:
        """Called after each optimiser step (e.g. GradNorm renormalises its weights here)."""

    def parameters(self) -> list[Tensor]:
        """Tensors the strategy learns with the model's optimiser (e.g. uncertainty's log-variances)."""
        return []

    def claims_held(self) -> frozenset[str]:
        """The claims that hold with these hyper-parameters: ``claims``, plus any a setting earns."""
        return self.claims

    def hparams(self) -> dict[str, Any]:
        """The hyper-parameters as given (defaults filled in)."""
        return {name: getattr(self, name) for name in hparam_names(type(self))}


class LossWeighting(Strategy):
    """Weights from the task losses: total = Σ_t w_t L_t, one backward pass."""

    kind = "loss"

    def weights(self, losses: Losses, context: StepContext) -> Tensor:  # [T]
        """The weight of each task at this step."""
        raise NotImplementedError

    def combine(self, losses: Losses, context: StepContext) -> tuple[Tensor, Tensor]:
        """The scalar to differentiate and the weights used (detached, for the history).

        A task without labelled rows in the batch has loss 0 and contributes nothing.
        """
        weights = self.weights(losses, context)
        return (weights * losses).sum(), weights.detach()


class GradientStrategy(Strategy):
    """Combines the task gradients of the shared parameters into one update direction."""

    kind = "gradient"
    space: Literal["parameters", "representation"] = "parameters"  # each strategy takes it as a ``Space`` keyword

    _takes_rows: ClassVar[bool] = True  # whether ``aggregate`` has the ``rows`` keyword (set per subclass)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._takes_rows = "rows" in inspect.signature(cls.aggregate).parameters

    def aggregate(self, jacobian: Jacobian, rows: Sequence[int] | None = None) -> Tensor:  # [T, P] -> [P]
        """The update direction for the shared parameters; works on a fresh object as on a used one.

        ``rows`` names the run's task of each row (None: tasks 0..T−1): a task without labelled rows
        in the batch is left out of the Jacobian, and a method keeping state per task indexes it with
        ``rows``. A method without such state may leave the keyword out of its signature.
        """
        raise NotImplementedError

    def __call__(self, jacobian: Jacobian, rows: Sequence[int] | None = None) -> Tensor:
        """Check the Jacobian (2-D, finite, one row per task of ``rows``), then ``aggregate`` it."""
        if jacobian.dim() != 2:
            raise ValueError(f"a Jacobian is [tasks, parameters]; got shape {tuple(jacobian.shape)}")
        if jacobian.numel():
            low, high = torch.aminmax(jacobian)  # nan propagates to both: one cheap pass instead of isfinite().all()
            if not (torch.isfinite(low) and torch.isfinite(high)):
                raise ValueError("the Jacobian holds nan or inf; the run diverged before weighting")
        if rows is not None and len(rows) != len(jacobian):
            raise ValueError(f"{len(rows)} task rows named for a Jacobian of {len(jacobian)} rows")
        return self.aggregate(jacobian, rows=rows) if self._takes_rows else self.aggregate(jacobian)

    def implied_weights(self) -> Tensor | None:
        """The task weights of the last ``aggregate`` when the method has them (direction = wᵀJ), else None."""
        return None


def per_coordinate_state(method: str) -> str:
    """Why a method whose state follows each coordinate of the task gradients refuses the representation space."""
    return (f"strategy.space = 'representation': {method} keeps state per coordinate of each task's gradient "
            "across steps, and in the representation space the coordinates are the rows of the current batch, "
            "which change from batch to batch (the last batch may be smaller). Use space = 'parameters'.")


def task_rows(rows: Sequence[int] | None, count: int) -> list[int]:
    """The run's task of each of ``count`` rows: ``rows`` as a list, or 0..count−1 when None."""
    return list(range(count)) if rows is None else list(rows)


def validate_hparams(cls: type, hparams: dict[str, Any]) -> dict[str, Any]:
    """Validated keywords for ``cls``; ConfigError names ``strategy.<key>`` and what is expected."""
    return validate(cls, hparams, "strategy", cls.__name__)
