"""Resuming training from a model folder's ``train_state.pt``: what the state holds, how a
trainer is put back into it, and which config changes a resumed run accepts (whether it
reads the training corpus it started on is :func:`nmtkit.model_folder.fit.record_corpus`).

The state holds everything the rest of the run depends on: weights, optimizer and
schedule, the fp16 gradient scaler, the torch and Python random generators (of every
process under torchrun), the data position (epoch and batch; the batch order, and the
segmentations ``train.subword_alpha`` samples, are a function of the seed and the epoch),
the step and token counters, the training seconds so far (``train.max_minutes`` counts on
from them) and the validation bookkeeping (best and last results, validations without a
better one for early stopping). On CPU in float32 a resumed run takes the same steps with
the same numbers as an uninterrupted one.
"""

from __future__ import annotations

import random
from dataclasses import asdict

import torch

from nmtkit.errors import NmtkitError
from nmtkit.training.state import TrainState
from nmtkit.training.validate import ValidResult

STATE_VERSION = 1


def rng_state() -> dict:
    """This process's random generators (torch's CPU generator drives dropout on CPU;
    CUDA's, when in use, on a GPU)."""
    state = {"torch": torch.get_rng_state(), "python": list(random.getstate()[1])}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    random.setstate((3, tuple(state["python"]), None))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda"])


def capture(state: TrainState, parts: dict, train_seconds: float, rngs: list[dict]) -> dict:
    """What ``train_state.pt`` holds at a checkpoint, as plain tensors and values: the
    trainer's ``state``, the state dicts of its ``parts`` (model, optimizer, schedule,
    scaler), and ``rngs``, the random generators of each process in rank order."""
    book = state.book
    valid = {name: None if r is None else asdict(r)
             for name, r in (("best", book.best), ("last", book.last))}
    valid["bad"] = book.bad
    return {
        "state_version": STATE_VERSION,
        **{name: part.state_dict() for name, part in parts.items()},
        "rank_rng": rngs,
        "data": {"epoch": state.epoch, "batch_in_epoch": state.batch_in_epoch},
        "counters": {"step": state.step, "tgt_tokens": state.tgt_tokens,
                     "train_seconds": train_seconds},
        "valid": valid,
    }


def restore(saved: dict, where: str, state: TrainState, parts: dict, dist,
            seed: int) -> list[str]:
    """Put ``state``, the ``parts`` and this process's random generators back as
    :func:`capture` saved them; warnings for what cannot be restored exactly."""
    if saved.get("state_version") != STATE_VERSION or "counters" not in saved \
            or "train_seconds" not in saved["counters"]:
        raise NmtkitError(f"{where}: a training state this nmtkit cannot resume (made by an "
                          "older release); pass --overwrite to train a new model in its place")
    warnings = []
    for name, part in parts.items():
        if name != "scaler" or saved.get("scaler"):
            part.load_state_dict(saved[name])
    state.epoch = saved["data"]["epoch"]
    state.batch_in_epoch = saved["data"]["batch_in_epoch"]
    state.step = saved["counters"]["step"]
    state.tgt_tokens = saved["counters"]["tgt_tokens"]
    state.seconds_before = saved["counters"]["train_seconds"]
    book = state.book
    book.best, book.last = (
        None if saved["valid"][name] is None else ValidResult(**saved["valid"][name])
        for name in ("best", "last"))
    book.bad = saved["valid"].get("bad", 0)
    rngs = saved.get("rank_rng") or [saved["rng"]]  # "rng": states before torchrun
    rank, world = dist.rank, dist.world
    if len(rngs) == world:
        set_rng_state(rngs[rank])
    else:  # another number of processes: the dropout masks cannot be the same anyway
        set_rng_state(rngs[rank % len(rngs)])
        torch.manual_seed(seed + 1000 * rank + state.step)
        warnings.append(f"resuming on {world} processes a training saved from {len(rngs)}: "
                        "the run goes on, but not with the random numbers it would have had")
    return warnings


def config_changes(saved: dict, new: dict, prefix: str = "config") -> list[tuple[str, object,
                                                                                   object]]:
    """Every dotted key whose value differs between two config dicts: (key, saved, new)."""
    changes = []
    for key in sorted(set(saved) | set(new)):
        a, b = saved.get(key), new.get(key)
        name = f"{prefix}.{key}"
        if isinstance(a, dict) and isinstance(b, dict):
            changes += config_changes(a, b, name)
        elif a != b:
            changes.append((name, a, b))
    return changes


def check_resumable(saved: dict, new: dict, where: str) -> list[str]:
    """Warnings for the training options a resumed run changes; an error for a change of
    the model (its weights would not fit or would mean something else)."""
    changes = config_changes(saved, new)
    model = [c for c in changes if c[0].startswith("config.model.")]
    if model:
        key, a, b = model[0]
        raise NmtkitError(f"{where}: resuming needs the same model, but {key} was {a!r} and "
                          f"is now {b!r}; train into another --model-dir, or pass --overwrite "
                          "to start a new model here")
    return [f"resuming with {key} changed from {a!r} to {b!r}" for key, a, b in changes]
