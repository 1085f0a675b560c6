"""Named configurations of the classic architectures, sized for this project's benchmarks
(Multi30k-scale data on a CPU). A preset is a partial config: the user's YAML and
command-line overrides are merged over it."""

from __future__ import annotations

from nmtkit.errors import ConfigError

_RNN_TRAIN = {"batch_tokens": 2000, "lr": 0.001, "clip_norm": 5.0, "label_smoothing": 0.1}


def _transformer(d_model: int, layers: int, heads: int, ff_size: int, warmup: int) -> dict:
    """A pre-norm Transformer with tied output and the noam schedule."""
    stack = {"type": "transformer", "layers": layers, "heads": heads, "ff_size": ff_size,
             "dropout": 0.1, "pre_norm": True}
    return {
        "model": {"embed_dim": d_model, "embed_dropout": 0.1, "init": "xavier",
                  "tie_output": True, "encoder": dict(stack), "attention": None,
                  "bridge": None, "decoder": dict(stack)},
        "train": {"batch_tokens": 4096, "lr": 2.0, "schedule": "noam", "warmup_steps": warmup,
                  "betas": [0.9, 0.98], "label_smoothing": 0.1, "clip_norm": 0.0},
    }


PRESETS: dict[str, dict] = {
    # Bahdanau, Cho & Bengio (2015): bidirectional GRU encoder, additive attention,
    # GRU decoder (here with input feeding carrying the attentional context forward).
    "bahdanau2015": {
        "model": {
            "embed_dim": 256, "embed_dropout": 0.2, "init": "uniform",
            "encoder": {"type": "rnn", "cell": "gru", "hidden_size": 256, "bidirectional": True,
                        "dropout": 0.2},
            "bridge": {"type": "dense"},
            "attention": {"type": "additive"},
            "decoder": {"type": "rnn", "cell": "gru", "hidden_size": 512, "dropout": 0.2},
        },
        "train": dict(_RNN_TRAIN),
    },
    # Luong, Pham & Manning (2015): stacked LSTMs, global general attention, input feeding.
    "luong2015": {
        "model": {
            "embed_dim": 256, "embed_dropout": 0.2, "init": "uniform",
            "encoder": {"type": "rnn", "cell": "lstm", "hidden_size": 512, "layers": 2,
                        "bidirectional": False, "dropout": 0.2},
            "bridge": {"type": "copy"},
            "attention": {"type": "general"},
            "decoder": {"type": "rnn", "cell": "lstm", "hidden_size": 512, "layers": 2,
                        "input_feeding": True, "dropout": 0.2},
        },
        "train": dict(_RNN_TRAIN),
    },
    # Vaswani et al. (2017), small: the BENCHMARKS.md Transformer-small protocol.
    "transformer-small": _transformer(d_model=256, layers=3, heads=4, ff_size=1024, warmup=400),
    # Vaswani et al. (2017), base.
    "transformer-base": _transformer(d_model=512, layers=6, heads=8, ff_size=2048, warmup=4000),
}


def preset(name: str) -> dict:
    """A deep copy of the preset's partial config."""
    import copy

    if name not in PRESETS:
        raise ConfigError(f"unknown preset '{name}'; valid: {', '.join(PRESETS)}")
    return copy.deepcopy(PRESETS[name])
