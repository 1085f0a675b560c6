"""The model folder and everything that acts on one: the folder itself (writing, opening,
checking, loading: ``folder.py``), its tensor files (``tensors.py``), and the commands that
make a new folder or file from one: ``average``, ``shortlist``, ``export``."""

from nmtkit.model_folder.folder import (
    TRAIN_STATE,
    LoadedModel,
    ModelFolder,
    plugin_provenance,
    resolved_config,
)

__all__ = ["TRAIN_STATE", "LoadedModel", "ModelFolder", "plugin_provenance", "resolved_config"]
