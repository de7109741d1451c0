"""ConFIG: Liu et al., 2024, "ConFIG: Towards Conflict-free Training of Physics Informed Neural Networks", Eq. 2."""

from __future__ import annotations

from collections.abc import Sequence
import torch
from torch import Tensor

from mtl_core.weighting._linalg import combine, gram_matrix
from mtl_core.weighting.base import GradientStrategy, Jacobian, Space
from mtl_core.weighting.registry import STRATEGIES


def config_weights(gram: Tensor, n_parameters: int) -> Tensor:
    """w [T] with direction = wᵀJ = (Σ_t g_tᵀ ĝ_u) ĝ_u, ĝ_u = g_u / ‖g_u‖, g_u = U⁺ 1 (U: the unit rows).

    Everything is done on the Gram matrix: U = D J with D = diag(1/‖g_t‖) (0 for a zero row), so
    U Uᵀ = D G D = V Λ Vᵀ, U⁺ 1 = Uᵀ (U Uᵀ)⁺ 1 = Jᵀ D a with a = V Λ⁻¹ Vᵀ 1, ‖g_u‖² = 1ᵀ V Λ⁻¹ Vᵀ 1
    and Σ_t g_tᵀ g_u = 1ᵀ G D a. Eigenvalues below max(λ)·max(T, P)·eps count as zero (the cut
    ``torch.linalg.pinv`` makes on U's singular values, applied to their squares, which carry the Gram
    matrix's round-off). When 1 is orthogonal to the rows' span (up to round-off), g_u = 0 and so is the direction.
    """
    norms = gram.diagonal().clamp(min=0.0).sqrt()
    inverse = torch.where(norms > 0, 1.0 / norms, torch.zeros_like(norms))
    eigenvalues, eigenvectors = torch.linalg.eigh(inverse[:, None] * gram * inverse[None, :])
    kept = eigenvalues > eigenvalues.max() * max(len(gram), n_parameters) * torch.finfo(gram.dtype).eps
    basis = eigenvectors[:, kept]
    coefficients = basis.T @ torch.ones_like(norms)  # 1 in the eigenbasis of U Uᵀ
    if not bool(coefficients.norm() > 100 * len(gram) * torch.finfo(gram.dtype).eps):
        return torch.zeros_like(norms)
    values = eigenvalues[kept]
    direction_weights = inverse * (basis @ (coefficients / values))  # g_u = Jᵀ (D a)
    unit_norm = (coefficients.square() / values).sum().sqrt()  # ‖g_u‖
    length = (gram @ direction_weights).sum() / unit_norm
    return length * direction_weights / unit_norm


@STRATEGIES.register("config_grad")
class ConFIG(GradientStrategy):
    """Move along the direction with equal cosine to every task gradient, as long as their projections on it.

    g_u = U⁺ 1 (U: the task gradients divided by their norms, ⁺: pseudo-inverse), so U g_u = 1 when the rows
    are independent; direction = (Σ_t g_tᵀ ĝ_u) ĝ_u with ĝ_u = g_u / ‖g_u‖ (equal preference weights).
    """

    claims = frozenset({"finite", "task_order_equivariant"})

    def __init__(self, space: Space = "parameters") -> None:
        self.space = space

    def reset(self) -> None:
        self.weights_: Tensor | None = None

    def aggregate(self, jacobian: Jacobian, rows: Sequence[int] | None = None) -> Tensor:  # [T, P] -> [P]
        weights = config_weights(torch.from_numpy(gram_matrix(jacobian)), jacobian.shape[1])
        self.weights_ = weights.to(jacobian.dtype)
        return combine(weights, jacobian)

    def implied_weights(self) -> Tensor | None:
        return self.weights_
