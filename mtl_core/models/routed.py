"""Task-id routed multi-task learning (seed 004, "Multi-Task Learning in Pytorch": a shared base network and
one task network per task, ``forward(data, task_id)``), over hard parameter sharing (Caruana, 1997)."""

from __future__ import annotations

import torch
from torch import Tensor

from mtl_core.models.hps import HardParameterSharing
from mtl_core.models.registry import ARCHITECTURES


@ARCHITECTURES.register("routed")
class Routed(HardParameterSharing):
    """One shared trunk, one head per task; each row's prediction is read from the head its task id selects.

    For a row i labelled for task τ(i): ŷ_i = head_τ(i)(trunk(x_i)), loss Σ_t mean_{i: τ(i)=t} L_t(ŷ_i, y_i).
    Seed 004 runs only the selected head; here ``forward(x)`` runs every head on every row and the trainer's
    label masks do the selecting (a row labelled for one task only contributes to that head's loss only),
    so batches may mix tasks freely and the update is the same. With every row labelled for every task
    this is ``hps``, number for number. ``route`` gives seed 004's per-row view of the outputs.
    """

    def route(self, outputs: dict[str, Tensor], task_index: Tensor) -> Tensor:
        """Row i's output from the head of task ``task_index[i]`` (positions in task order), [B, out].

        The heads must have one width (e.g. all regression or all binary tasks).
        """
        widths = set(self.head_widths.values())
        if len(widths) != 1:
            raise ValueError(f"route needs heads of one width; these have {sorted(widths)}")
        stacked = torch.stack([outputs[name] for name in self.task_names], dim=1)  # [B, T, out]
        return stacked[torch.arange(len(task_index), device=stacked.device), task_index]
