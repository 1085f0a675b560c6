"""What the paired translation benches share: their common options, and translating the
same lines with several translators in turn, the best time of each counting."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path


def parser(doc: str, ref: bool = False) -> argparse.ArgumentParser:
    """--model-dir, --input (and --ref), --beams, --batch-size, --repeats."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--model-dir", type=Path, required=True)
    ap.add_argument("--input", type=Path, required=True)
    if ref:
        ap.add_argument("--ref", type=Path, required=True)
    ap.add_argument("--beams", default="1,5")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=2)
    return ap


def alternate(translators: dict, lines: list[str], repeats: int,
              after: Callable | None = None) -> tuple[dict, dict]:
    """Each translator translates ``lines`` in turn, ``repeats`` times; returns the best
    seconds and the output texts of each (``after(name, translator)`` runs after each
    pass). The translators are closed at the end."""
    best, texts = {}, {}
    for _ in range(repeats):
        for name, translator in translators.items():
            start = time.perf_counter()
            out = translator.translate_lines(lines)
            seconds = time.perf_counter() - start
            best[name] = min(best.get(name, seconds), seconds)
            texts[name] = [t.text for t in out]
            if after is not None:
                after(name, translator)
    for translator in translators.values():
        translator.close()
    return best, texts


def versus(best: dict, texts: dict, base, other, lines: int) -> tuple[float, float, int]:
    """Sentences/s of ``base`` and ``other`` and how many of their lines differ."""
    differ = sum(a != b for a, b in zip(texts[base], texts[other]))
    return lines / best[base], lines / best[other], differ


def best_of(fn: Callable, repeats: int):
    """The best seconds of ``repeats`` calls of ``fn``, and the last call's result."""
    best, out = None, None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        seconds = time.perf_counter() - start
        best = seconds if best is None else min(best, seconds)
    return best, out


def heading(args, lines: list[str], *more: str) -> str:
    """The first line of a bench's output: model, lines, batch, threads, repeats."""
    import torch

    return ", ".join([f"{args.model_dir}", f"{len(lines)} lines", f"batch {args.batch_size}",
                      f"{torch.get_num_threads()} threads", f"best of {args.repeats}", *more])
