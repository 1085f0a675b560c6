"""Resuming training from a model folder's ``train_state.pt``: what the state holds, how a
trainer is put back into it, which config changes a resumed run accepts, and whether it
reads the training corpus it started on (recorded in ``meta.json``).

The state holds everything the rest of the run depends on: weights, optimizer and
schedule, the fp16 gradient scaler, the torch and Python random generators (of every
process under torchrun), the data position (epoch and batch; the batch order is a function
of the seed and the epoch), the step and token counters, the training seconds so far
(``train.max_minutes`` counts on from them) and the validation bookkeeping (best and last
results, validations without a better one for early stopping). On CPU in float32 a
resumed run takes the same steps with the same numbers as an uninterrupted one.
"""

from __future__ import annotations

import random
from dataclasses import asdict
from pathlib import Path

import torch

from nmtkit.data.corpus import corpus_fingerprint
from nmtkit.errors import NmtkitError
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


def capture(trainer, train_seconds: float, rngs: list[dict]) -> dict:
    """The trainer's state at a checkpoint, as plain tensors and values; ``rngs`` holds
    the random generators of each process, in rank order."""
    book = trainer.book
    valid = {name: None if r is None else asdict(r)
             for name, r in (("best", book.best), ("last", book.last))}
    valid["bad"] = book.bad
    return {
        "state_version": STATE_VERSION,
        "model": trainer.model.state_dict(),
        "optimizer": trainer.optimizer.state_dict(),
        "schedule": trainer.schedule.state_dict(),
        "scaler": trainer.scaler.state_dict(),
        "rank_rng": rngs,
        "data": {"epoch": trainer.epoch, "batch_in_epoch": trainer.batch_in_epoch},
        "counters": {"step": trainer.step, "tgt_tokens": trainer.tgt_tokens,
                     "train_seconds": train_seconds},
        "valid": valid,
    }


def restore(trainer, state: dict, where: str) -> list[str]:
    """Put ``trainer`` back into ``state`` (from :func:`capture`); warnings for what
    cannot be restored exactly."""
    if state.get("state_version") != STATE_VERSION or "counters" not in state \
            or "train_seconds" not in state["counters"]:
        raise NmtkitError(f"{where}: a training state this nmtkit cannot resume (made by an "
                          "older release); pass --overwrite to train a new model in its place")
    warnings = []
    trainer.model.load_state_dict(state["model"])
    trainer.optimizer.load_state_dict(state["optimizer"])
    trainer.schedule.load_state_dict(state["schedule"])
    if state.get("scaler"):
        trainer.scaler.load_state_dict(state["scaler"])
    trainer.epoch = state["data"]["epoch"]
    trainer.batch_in_epoch = state["data"]["batch_in_epoch"]
    trainer.step = state["counters"]["step"]
    trainer.tgt_tokens = state["counters"]["tgt_tokens"]
    trainer.resumed_seconds = state["counters"]["train_seconds"]
    book = trainer.book
    book.best, book.last = (
        None if state["valid"][name] is None else ValidResult(**state["valid"][name])
        for name in ("best", "last"))
    book.bad = state["valid"].get("bad", 0)
    rngs = state.get("rank_rng") or [state["rng"]]  # "rng": states before torchrun
    rank, world = trainer.dist.rank, trainer.dist.world
    if len(rngs) == world:
        set_rng_state(rngs[rank])
    else:  # another number of processes: the dropout masks cannot be the same anyway
        set_rng_state(rngs[rank % len(rngs)])
        torch.manual_seed(trainer.config.train.seed + 1000 * rank + trainer.step)
        warnings.append(f"resuming on {world} processes a training saved from {len(rngs)}: "
                        "the run goes on, but not with the random numbers it would have had")
    return warnings


def corpus_record(data_dir: Path) -> dict:
    """The training corpus a run reads, as ``meta.json`` records it: its data folder and
    fingerprint."""
    return {"data_dir": str(data_dir), "fingerprint": corpus_fingerprint(data_dir)}


def record_corpus(folder, meta: dict, data_dir: Path, write: bool = True) -> str | None:
    """Whether a resumed run reads another training corpus than it did (same tokenizer and
    vocabularies, other pairs): if so, the new one is recorded in the model folder's
    ``meta.json`` (``corpus``; the earlier ones under ``corpus_history``; only where
    ``write``, the process that writes) and the earlier one's data folder returned. A
    folder of an older release, which recorded none, starts recording now."""
    saved = meta.get("corpus")
    now = corpus_record(data_dir)
    if isinstance(saved, dict) and saved.get("fingerprint") == now["fingerprint"]:
        return None
    if write:
        history = [*meta.get("corpus_history", []), *([saved] if saved else [])]
        folder.write_meta({"corpus": now, "corpus_history": history})
    return str(saved.get("data_dir", "?")) if isinstance(saved, dict) else None


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
