"""Weights on disk: saving a state_dict whole, reading one back with one-line errors, and a run's last epoch's.

``checkpoints/last.pt`` holds the last epoch's weights of a run, saved beside the evaluated ones. With
``train.select`` the trainer evaluates (and ``best.pt`` holds) the selected epoch's weights, loaded
back before the run ends; the last epoch's are copied here as each epoch ends, while the model holds
them. Without it the evaluated weights are the last epoch's. PyTorch is imported only when a run is saved
or loaded. A checkpoint is written to a temporary name and renamed over the old one (``mtl_core.atomic``),
so a run killed while saving leaves the old file or the new one, never a truncated file.
"""

from __future__ import annotations

import io
import pickle
import warnings
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mtl_core.atomic import shown_path, write_bytes
from mtl_core.errors import DataError

if TYPE_CHECKING:
    from mtl_core.train.events import Event

LAST_CHECKPOINT = "checkpoints/last.pt"


class CheckpointError(DataError):
    """A checkpoint file is truncated, corrupt, pickled code or not a state_dict of this run's model."""


def save_weights(path: Path, state: dict[str, Any]) -> None:
    """Write a state_dict to ``path`` whole (``torch.load(path, weights_only=True)`` reads it).

    Serialised in memory first (at most MAX_PARAMETERS × 4 bytes): PyTorch's own writer turns a full disk
    into a RuntimeError, where a plain write gives the OSError that names the cause.
    """
    import torch

    buffer = io.BytesIO()
    torch.save(state, buffer)
    write_bytes(path, buffer.getbuffer())


def load_weights(path: Path) -> dict[str, Any]:
    """The state_dict in ``path``; CheckpointError (one line) when it cannot be read as plain weights."""
    import torch

    try:
        with warnings.catch_warnings():  # a pickle's protocol warning would be a second line on stderr
            warnings.simplefilter("ignore")
            state = torch.load(path, map_location="cpu", weights_only=True)
    except OSError as error:
        raise CheckpointError(f"checkpoint {shown_path(path)} cannot be read: {error.strerror or 'read error'}") \
            from None
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, TypeError, AttributeError, KeyError,
            IndexError, UnicodeDecodeError, zipfile.BadZipFile, ImportError) as error:
        raise CheckpointError(f"checkpoint {shown_path(path)} is not a readable set of weights "
                              f"({type(error).__name__}): it is truncated, corrupt or holds pickled code. "
                              f"Train the run again.") from None
    if not isinstance(state, dict) or not all(isinstance(name, str) and isinstance(value, torch.Tensor)
                                              for name, value in state.items()):
        raise CheckpointError(f"checkpoint {shown_path(path)} holds no state_dict (names → tensors). "
                              f"Train the run again.")
    return state


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
        path = folder / LAST_CHECKPOINT
        path.unlink(missing_ok=True)
        if status == "diverged":
            return None
        state = self.state or {name: value.detach().cpu() for name, value in self.model.state_dict().items()}
        save_weights(path, state)
        return path
