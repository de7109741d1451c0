"""IMTL-G: Liu et al., 2021, "Towards Impartial Multi-task Learning" (ICLR), Sec. 3.2, the closed form of Eq. (6)."""

from __future__ import annotations

from collections.abc import Sequence
import math

import numpy as np
import torch
from torch import Tensor

from mtl_core.weighting._linalg import Gram, Vector, gram_matrix
from mtl_core.weighting.base import GradientStrategy, Jacobian, Space
from mtl_core.weighting.registry import STRATEGIES

_RANK_CUTOFF = 1e-10  # eigenvalues of the cosine matrix below this × the largest count as zero


def imtl_g_weights(gram: Gram) -> Vector:
    """α with Σα = 1 and equal projections (αᵀJ) · u_t on every unit gradient u_t = g_t/‖g_t‖.

    Equal projections mean G α = c n (n_t = ‖g_t‖), so α ∝ G⁻¹ n = N⁻¹ C⁻¹ 1 with the cosine
    matrix C = N⁻¹ G N⁻¹; this equals the paper's α_{2:T} = g_1 Uᵀ (D Uᵀ)⁻¹ whenever the rows are
    linearly independent. C is inverted (pseudo-inverse, ``_RANK_CUTOFF``) instead of G, so rows
    of very different scales stay accurate; a zero row gets weight 0; when Σ α vanishes (e.g. two
    opposite gradients) no direction projects equally and positively, and α = 0.

    >>> imtl_g_weights(np.array([[1.0, 0.0], [0.0, 4.0]])).tolist()  # g1 = e1, g2 = 2 e2: α ∝ (1, 1/2)
    [0.6666666666666666, 0.3333333333333333]
    """
    norms = np.sqrt(np.clip(np.diag(gram), 0.0, None))
    kept = np.flatnonzero(norms > 0.0)
    weights = np.zeros(len(gram))
    if len(kept) == 0:
        return weights
    cosines = gram[np.ix_(kept, kept)] / np.outer(norms[kept], norms[kept])
    values, vectors = np.linalg.eigh(cosines)
    along = vectors.T @ np.ones(len(kept))  # 1 in the eigenbasis; what rounding leaves of a zero component is dropped
    usable = (values > _RANK_CUTOFF * values.max()) & (np.abs(along) > 1e-10 * math.sqrt(len(kept)))
    raw = vectors[:, usable] @ (along[usable] / values[usable]) / norms[kept]  # N⁻¹ C⁺ 1
    total = raw.sum()
    if abs(total) <= 1e-12 * np.abs(raw).sum():
        return weights
    weights[kept] = raw / total
    return weights


@STRATEGIES.register("imtl_g")
class IMTLG(GradientStrategy):
    """Weights that make the update project equally onto every task's unit gradient: d · u_t is the same for all t.

    d = Σ_t α_t g_t with α_{2:T} = g_1 Uᵀ (D Uᵀ)⁻¹, D = [g_1 − g_t]ᵀ_{t≥2}, U = [u_1 − u_t]ᵀ_{t≥2},
    α_1 = 1 − Σ_{t≥2} α_t (Eq. 6), computed in the order-free form α ∝ G⁻¹ n (see ``imtl_g_weights``).
    """

    claims = frozenset({"finite", "task_order_equivariant"})

    def __init__(self, space: Space = "parameters") -> None:
        self.space = space

    def reset(self) -> None:
        self.weights_: Tensor | None = None

    def aggregate(self, jacobian: Jacobian, rows: Sequence[int] | None = None) -> Tensor:
        weights = torch.from_numpy(imtl_g_weights(gram_matrix(jacobian))).to(jacobian)
        self.weights_ = weights
        return weights @ jacobian

    def implied_weights(self) -> Tensor | None:
        return self.weights_
