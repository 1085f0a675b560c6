"""Named configurations of the classic architectures, sized for this project's benchmarks
(Multi30k-scale data on a CPU). A preset is a partial config: the user's YAML and
command-line overrides are merged over it."""

from __future__ import annotations

from nmtkit.errors import ConfigError

_RNN_TRAIN = {"batch_tokens": 2000, "lr": 0.001, "clip_norm": 5.0, "label_smoothing": 0.1}

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
    "transformer-small": {
        "model": {
            "embed_dim": 256, "embed_dropout": 0.1, "init": "xavier", "tie_output": True,
            "encoder": {"type": "transformer", "layers": 3, "heads": 4, "ff_size": 1024,
                        "dropout": 0.1, "pre_norm": True},
            "attention": None, "bridge": None,
            "decoder": {"type": "transformer", "layers": 3, "heads": 4, "ff_size": 1024,
                        "dropout": 0.1, "pre_norm": True},
        },
        "train": {"batch_tokens": 4096, "lr": 2.0, "schedule": "noam", "warmup_steps": 400,
                  "betas": [0.9, 0.98], "label_smoothing": 0.1, "clip_norm": 0.0},
    },
    # Vaswani et al. (2017), base.
    "transformer-base": {
        "model": {
            "embed_dim": 512, "embed_dropout": 0.1, "init": "xavier", "tie_output": True,
            "encoder": {"type": "transformer", "layers": 6, "heads": 8, "ff_size": 2048,
                        "dropout": 0.1, "pre_norm": True},
            "attention": None, "bridge": None,
            "decoder": {"type": "transformer", "layers": 6, "heads": 8, "ff_size": 2048,
                        "dropout": 0.1, "pre_norm": True},
        },
        "train": {"batch_tokens": 4096, "lr": 2.0, "schedule": "noam", "warmup_steps": 4000,
                  "betas": [0.9, 0.98], "label_smoothing": 0.1, "clip_norm": 0.0},
    },
}


def preset(name: str) -> dict:
    """A deep copy of the preset's partial config."""
    import copy

    if name not in PRESETS:
        raise ConfigError(f"unknown preset '{name}'; valid: {', '.join(PRESETS)}")
    return copy.deepcopy(PRESETS[name])
