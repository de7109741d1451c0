"""The last epoch's weights of a run, saved beside the evaluated ones as ``checkpoints/last.pt``.

With ``train.select`` the trainer evaluates (and ``best.pt`` holds) the selected epoch's weights, loaded
back before the run ends; the last epoch's are copied here as each epoch ends, while the model holds
them. Without it the evaluated weights are the last epoch's. PyTorch is imported only when a run is saved.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mtl_core.train.events import Event

LAST_CHECKPOINT = "checkpoints/last.pt"


class LastWeights:
    """Follows a run's events and saves its last epoch's weights (a state_dict on the CPU) when it ends."""

    def __init__(self, model: Any, select: str | None) -> None:
        self.model, self.select = model, select
        self.state: dict[str, Any] | None = None

    def update(self, event: Event) -> None:
        """Copy the weights at the end of each epoch, when the evaluated ones may be another epoch's."""
        if self.select is not None and type(event).__name__ == "EpochEnded":
            self.state = {name: value.detach().to("cpu", copy=True) for name, value in self.model.state_dict().items()}

    def save(self, folder: Path, status: str) -> Path | None:
        """Write ``folder/checkpoints/last.pt`` (none for a diverged run: its last weights are not finite)."""
        import torch

        path = folder / LAST_CHECKPOINT
        path.unlink(missing_ok=True)
        if status == "diverged":
            return None
        state = self.state or {name: value.detach().cpu() for name, value in self.model.state_dict().items()}
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(state, path)
        return path
