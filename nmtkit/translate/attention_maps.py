"""What a model attends to while it produces a given translation: one teacher-forced pass over
(source, translation) id sequences, batched by length, through the decoder's
:meth:`~nmtkit.models.interfaces.Decoder.attention_maps`. The search is untouched: the maps
come from a second pass over its output, for heatmaps, alignments and JSON output.

A map has one row per target piece and a last row for the end of sentence, one column per
source piece; a line's map is kept as its segments' blocks
(:mod:`nmtkit.translate.attention_blocks`). The default view is one layer's attention (a
Transformer's cross-attention; the last layer unless another is asked for), averaged over
its heads; ``heads``, ``layers`` and ``all`` also keep each head of that layer, each layer
(heads averaged), or each head of each layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import torch

from nmtkit.data.batching import pair_batch
from nmtkit.data.vocab import UNK
from nmtkit.search.sequences import length_batches
from nmtkit.translate.attention_blocks import BlockMap

VIEWS = ("mean", "heads", "layers", "all")
END = "</s>"


@dataclass
class AttentionMap:
    """source: the source pieces (columns); target: the target pieces and ``</s>`` (rows);
    mean: (rows, columns) the chosen layer's attention (the last by default), heads
    averaged; views: the maps of each head or layer asked for, as (label, map); none for
    the mean view. Each map is the line's segments' blocks, never the dense matrix, which
    grows with the square of the line's length."""

    source: list[str]
    target: list[str]
    mean: BlockMap
    views: list[View] = field(default_factory=list)


class View(NamedTuple):
    """One head's or layer's map, and its label ("layer 2, head 3")."""

    label: str
    weights: Any  # a (rows, columns) tensor for one pair; a BlockMap for a line


class PairMaps(NamedTuple):
    """What :func:`attention_maps` gives for one (source, target) pair."""

    mean: torch.Tensor  # (rows, columns): the chosen layer, heads averaged
    views: list[View]  # the view's heads or layers (none for the mean view)


def select_views(maps: torch.Tensor, view: str, layer: int = 0) -> list[View]:
    """The maps of ``view`` from one pair's maps (layers, heads, rows, columns); ``heads``
    are those of ``layer`` (counted from 1; 0: the last)."""
    layers, heads = maps.shape[:2]
    if view == "heads":
        n = layer or layers
        return [View(f"layer {n}, head {h + 1}", maps[n - 1, h]) for h in range(heads)]
    if view == "layers":
        return [View(f"layer {n + 1}", maps[n].mean(0)) for n in range(layers)]
    if view == "all":
        return [View(f"layer {n + 1}, head {h + 1}", maps[n, h])
                for n in range(layers) for h in range(heads)]
    return []


@torch.inference_mode()
def attention_layers(model, device: torch.device | str = "cpu") -> int:
    """How many layers of attention the model's decoder gives (one pass over a one-piece
    pair): what ``layer`` may be at most."""
    b = pair_batch([[UNK]], [[UNK]]).to(device)
    return model.eval().decoder.attention_maps(b.tgt_in, model.encode(b.src, b.src_lengths)
                                               ).size(1)


@torch.inference_mode()
def attention_maps(model, sources: list[list[int]], targets: list[list[int]], view: str = "mean",
                   batch_size: int = 64, device: torch.device | str = "cpu", layer: int = 0
                   ) -> list[PairMaps | None]:
    """For each (source, target) pair of id sequences: the mean map (of ``layer``, counted
    from 1; 0: the last) and the ``view``'s maps (float32, on the CPU), each with
    ``len(target) + 1`` rows and ``len(source)`` columns; None for an empty source."""
    out: list[PairMaps | None] = [None] * len(sources)
    model = model.eval()
    for batch in length_batches(sources, batch_size):
        b = pair_batch([sources[i] for i in batch], [targets[i] for i in batch]).to(device)
        maps = model.decoder.attention_maps(b.tgt_in, model.encode(b.src, b.src_lengths))
        maps = maps.float().cpu()
        for row, i in enumerate(batch):
            m = maps[row, :, :, : len(targets[i]) + 1, : len(sources[i])]
            n = layer or m.size(0)
            # copies of the pair's own maps: a slice would keep (and a worker process
            # would pickle) the whole batch's, every layer and head of it
            out[i] = PairMaps(m[n - 1].mean(0),
                              [View(v.label, v.weights.clone()) for v in select_views(m, view, n)])
    return out
