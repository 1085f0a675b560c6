"""Checkpoint averaging: a model folder whose weights are the mean of several of another
model folder's step checkpoints (``checkpoint-STEP.pt``, kept by ``train.keep_last`` and
``train.keep_best``). It translates like any model folder; it holds no training state."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import torch

from nmtkit.errors import NmtkitError
from nmtkit.fileio import atomic_dir
from nmtkit.folders import check_format, claim_folder
from nmtkit.model_folder.checkpoints import ranked, read_index
from nmtkit.model_folder.folder import ModelFolder
from nmtkit.model_folder.metrics_log import NAME as METRICS_LOG
from nmtkit.model_folder.tensors import RETRAIN, describe_misfit, load_tensors, non_finite
from nmtkit.model_folder.validations import METRIC_NAMES

# What an averaged folder shares with its source (the weights are its own).
SHARED = ("config.yaml", "tokenizer.json", "vocab.src.tsv", "vocab.tgt.tsv", METRICS_LOG)


@dataclass
class AverageReport:
    out: Path
    steps: list[int]
    chosen_by: str  # "last", or the validation metric the best were ranked by


def choose(model_dir: Path, last: int | None, best: int | None) -> tuple[list[dict], str]:
    """The checkpoint entries to average: the ``last`` N by step or the ``best`` N by the
    validation metric the training ranked them by."""
    if (last is None) == (best is None):
        raise NmtkitError("give one of --last N or --best N")
    n = last if last is not None else best
    if n < 1:
        raise NmtkitError(f"--{'last' if last is not None else 'best'} {n}: give 1 or more")
    index = read_index(model_dir)
    entries = index["checkpoints"]
    if last is not None:
        pool, what = entries, "step checkpoints"
    else:
        pool = ranked(entries, index["metric"])
        what = f"validated checkpoints (ranked by {METRIC_NAMES[index['metric']]})"
    if len(pool) < n:
        raise NmtkitError(f"{model_dir}: holds {len(pool)} {what}, fewer than {n}; train "
                          "with a higher train.keep_last (or train.keep_best) to keep more")
    chosen = pool[-n:] if last is not None else pool[:n]
    return sorted(chosen, key=lambda e: e["step"]), "last" if last is not None else \
        index["metric"]


def mean_state(paths: list[Path]) -> dict[str, torch.Tensor]:
    """The element-wise mean of the weights in ``paths`` (summed in float64; tensors that
    are not floating point, if any, are taken from the last file)."""
    total: dict[str, torch.Tensor] = {}
    first: dict[str, torch.Tensor] | None = None
    for path in paths:
        payload = check_format(load_tensors(path), path, ("model",), RETRAIN)
        state = payload["model"]
        if not isinstance(state, dict):
            raise NmtkitError(f"{path}: damaged (no state dict); {RETRAIN}")
        bad, count, name = non_finite(state)
        if bad:
            raise NmtkitError(f"{path}: {bad:,} of {count:,} weights are NaN or infinite "
                              f"(first in {name}); average other checkpoints (--last or "
                              "--best fewer)")
        if first is None:
            first = state
        else:
            misfit = describe_misfit(first, state)
            if misfit:
                raise NmtkitError(f"{path}: does not fit {paths[0].name}: {misfit}")
        for name, t in state.items():
            if t.is_floating_point():
                total[name] = total.get(name, 0) + t.double()
            else:
                total[name] = t
    return {name: (t / len(paths)).to(first[name].dtype) if first[name].is_floating_point()
            else t for name, t in total.items()}


def average(model_dir: Path, out: Path, last: int | None = None, best: int | None = None,
            overwrite: bool = False) -> AverageReport:
    model_dir, out = Path(model_dir), Path(out)
    source = ModelFolder.open(model_dir)
    meta = source.opened
    claim_folder(out, "model", "-o", [model_dir], overwrite)
    entries, chosen_by = choose(model_dir, last, best)
    state = mean_state([model_dir / e["file"] for e in entries])
    loaded = source.load()  # the averaged weights fit the model the folder describes
    misfit = describe_misfit(loaded.model.state_dict(), state)
    if misfit:
        raise NmtkitError(f"{model_dir}: the checkpoints do not fit config.yaml: {misfit}")
    steps = [e["step"] for e in entries]
    with atomic_dir(out, overwrite) as tmp:
        names = [n for n in SHARED if (model_dir / n).is_file()]
        names += sorted(p.name for p in model_dir.glob("spm*.model"))
        for name in names:
            shutil.copyfile(model_dir / name, tmp / name)
        folder = ModelFolder(tmp)
        folder.save_weights(state)
        doc = {k: v for k, v in meta.doc.items() if k != "best_valid"}
        doc["averaged"] = {"from": str(model_dir), "steps": steps, "chosen_by": chosen_by}
        folder.write_meta(doc)
    return AverageReport(out, steps, chosen_by)
