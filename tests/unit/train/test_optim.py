"""The optimiser: the configured kind and rate, and a weight-decay-free group for a strategy's tensors."""

from __future__ import annotations

import pytest
import torch

from mtl_core.config import TrainConfig
from mtl_core.train.optim import make_optimizer


@pytest.mark.parametrize(("name", "kind"), [("adam", torch.optim.Adam), ("adamw", torch.optim.AdamW),
                                            ("sgd", torch.optim.SGD)])
def test_the_optimizer_is_the_configured_kind_and_rate(name: str, kind: type) -> None:
    optimizer = make_optimizer(TrainConfig(optimizer=name, lr=0.5), [torch.nn.Parameter(torch.zeros(2))])  # type: ignore[arg-type]
    assert type(optimizer) is kind and optimizer.param_groups[0]["lr"] == 0.5


def test_a_strategys_tensors_get_their_own_group_without_weight_decay() -> None:
    model, learned = [torch.nn.Parameter(torch.zeros(2))], [torch.zeros(3, requires_grad=True)]
    optimizer = make_optimizer(TrainConfig(weight_decay=0.1), model, learned)
    assert [group["weight_decay"] for group in optimizer.param_groups] == [0.1, 0.0]


def test_sgd_uses_the_configured_momentum() -> None:
    optimizer = make_optimizer(TrainConfig(optimizer="sgd", momentum=0.9), [torch.nn.Parameter(torch.zeros(1))])
    assert optimizer.param_groups[0]["momentum"] == 0.9
