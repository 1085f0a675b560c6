"""What a model attends to while it produces a given translation: one teacher-forced pass
over (source, translation) id sequences, batched by length, through the decoder's
:meth:`~nmtkit.models.interfaces.Decoder.attention_maps`. The search is untouched: the maps
come from a second pass over its output, for heatmaps, alignments and JSON output.

A map has one row per target piece and a last row for the end of sentence, one column per
source piece. The default view is one layer's attention (a Transformer's cross-attention;
the last layer unless another is asked for), averaged over its heads; ``heads``, ``layers``
and ``all`` also keep each head of that layer, each layer (heads averaged), or each head of
each layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from nmtkit.data.batching import pair_batch
from nmtkit.data.vocab import UNK
from nmtkit.search.sequences import length_batches

VIEWS = ("mean", "heads", "layers", "all")
END = "</s>"


@dataclass
class AttentionMap:
    """source: the source pieces (columns); target: the target pieces and ``</s>`` (rows);
    mean: (rows, columns) the chosen layer's attention (the last by default), heads
    averaged; views: the maps of each head or layer asked for, as (label, (rows, columns));
    none for the mean view."""

    source: list[str]
    target: list[str]
    mean: torch.Tensor
    views: list[tuple[str, torch.Tensor]] = field(default_factory=list)


def select_views(maps: torch.Tensor, view: str, layer: int = 0
                 ) -> list[tuple[str, torch.Tensor]]:
    """The maps of ``view`` from one pair's maps (layers, heads, rows, columns); ``heads``
    are those of ``layer`` (counted from 1; 0: the last)."""
    layers, heads = maps.shape[:2]
    if view == "heads":
        n = layer or layers
        return [(f"layer {n}, head {h + 1}", maps[n - 1, h]) for h in range(heads)]
    if view == "layers":
        return [(f"layer {n + 1}", maps[n].mean(0)) for n in range(layers)]
    if view == "all":
        return [(f"layer {n + 1}, head {h + 1}", maps[n, h])
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
                   ) -> list[tuple[torch.Tensor, list] | None]:
    """For each (source, target) pair of id sequences: the mean map (of ``layer``, counted
    from 1; 0: the last) and the ``view``'s maps (float32, on the CPU), each with
    ``len(target) + 1`` rows and ``len(source)`` columns; None for an empty source."""
    out: list[tuple[torch.Tensor, list] | None] = [None] * len(sources)
    model = model.eval()
    for batch in length_batches(sources, batch_size):
        b = pair_batch([sources[i] for i in batch], [targets[i] for i in batch]).to(device)
        maps = model.decoder.attention_maps(b.tgt_in, model.encode(b.src, b.src_lengths))
        maps = maps.float().cpu()
        for row, i in enumerate(batch):
            m = maps[row, :, :, : len(targets[i]) + 1, : len(sources[i])]
            n = layer or m.size(0)
            out[i] = (m[n - 1].mean(0), select_views(m, view, n))
    return out


def join_segments(maps: list[torch.Tensor]) -> torch.Tensor:
    """One map (..., rows, columns) from the maps of a line's segments (each translated on
    its own): block-diagonal, each segment's end-of-sentence row dropped but the last's."""
    rows = sum(m.size(-2) - 1 for m in maps) + 1
    cols = sum(m.size(-1) for m in maps)
    out = maps[0].new_zeros(*maps[0].shape[:-2], rows, cols)
    r = c = 0
    for k, m in enumerate(maps):
        keep = m if k == len(maps) - 1 else m[..., :-1, :]
        out[..., r : r + keep.size(-2), c : c + m.size(-1)] = keep
        r, c = r + keep.size(-2), c + m.size(-1)
    return out
