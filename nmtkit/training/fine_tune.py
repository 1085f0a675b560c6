"""``nmtkit train --init-from MODEL_DIR``: start from a trained model's weights (with a new
optimizer and schedule), on a data folder encoded with the same tokenizer and
vocabularies."""

from __future__ import annotations

import copy
from pathlib import Path

import torch

from nmtkit.config import merge
from nmtkit.data.preprocess import Manifest
from nmtkit.data.vocab import Vocab
from nmtkit.errors import NmtkitError
from nmtkit.model_folder import ModelFolder
from nmtkit.model_folder.fit import check_same_encoding
from nmtkit.training.resume import config_changes


def _shapes(model_section: dict, sizes: tuple[int, int]) -> dict | None:
    """The weights' shapes of the model a model section builds (on the meta device: no
    memory); None where it builds none."""
    from nmtkit.config import ModelConfig, from_dict
    from nmtkit.models.seq2seq import Seq2Seq

    try:
        with torch.device("meta"):
            model = Seq2Seq(from_dict(ModelConfig, model_section, "config.model"), *sizes)
    except Exception:  # noqa: BLE001 - a combination no model is built from: not the one
        return None
    return {name: list(t.shape) for name, t in model.state_dict().items()}


def _show(value) -> str:
    import json

    return value if isinstance(value, str) else json.dumps(value)


def check_shape_kept(model_dir: Path, source: dict, new: dict) -> None:
    """Fine-tuning starts from ``model_dir``'s weights: a change of its model section
    ``source`` (by --config or an override; ``new`` is the changed section) that changes
    their shapes is one line naming the key, its new value and the model's."""
    sizes = tuple(len(Vocab.load(Path(model_dir) / f"vocab.{side}.tsv"))
                  for side in ("src", "tgt"))
    before, after = _shapes(source, sizes), _shapes(new, sizes)
    if before is None or after is None or before == after:
        return
    # each changed key (one left out of the new section is not a change made here)
    changed = {key: (was, now) for key, was, now in config_changes(source, new, "model")
               if now is not None}

    def alone(key: str) -> dict:
        """``source`` with only ``key`` changed."""
        over = changed[key][1]
        for part in reversed(key.split(".")[1:]):
            over = {part: over}
        return merge(copy.deepcopy(source), over)

    culprits = [k for k in changed if _shapes(alone(k), sizes) not in (None, before)] \
        or list(changed)
    if not culprits:  # nothing we can name: loading the weights says what does not fit
        return
    name = next((n for n in after if before.get(n) != after[n]), None) or \
        next(n for n in before if n not in after)
    there, here = before.get(name, "absent"), after.get(name, "absent")
    change = "this change" if len(culprits) == 1 else "these changes"
    raise NmtkitError(
        f"{', '.join(f'{k}={_show(changed[k][1])}' for k in culprits)}: the weights of "
        f"{model_dir} have {', '.join(_show(changed[k][0]) for k in culprits)} ({name} is "
        f"{there} there but {here} with {change}); fine-tuning keeps the shape of the "
        f"weights: drop {change}, or train a new model without --init-from")


def init_from(model_dir: Path, model: torch.nn.Module, data_dir: Path,
              manifest: Manifest) -> None:
    """Load ``model_dir``'s weights into ``model`` after checking the data fits them."""
    folder = ModelFolder.open(model_dir)
    check_same_encoding(Path(model_dir), Path(data_dir), manifest)
    sizes = [len(Vocab.load(Path(model_dir) / f"vocab.{side}.tsv")) for side in ("src", "tgt")]
    folder.load_state(model, tuple(sizes))
