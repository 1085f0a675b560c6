"""Optimisers and learning-rate schedules."""

from __future__ import annotations

import math

import torch

from nmtkit.config import TrainConfig
from nmtkit.errors import ConfigError

SCHEDULES = ("constant", "noam", "inverse_sqrt")


def build_optimizer(params, cfg: TrainConfig) -> torch.optim.Optimizer:
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, betas=cfg.betas, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, betas=cfg.betas, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    raise ConfigError(f"train.optimizer: unknown '{cfg.optimizer}'; valid: adam, adamw, sgd")


def lr_factor(step: int, cfg: TrainConfig, d_model: int) -> float:
    """Multiplier of ``train.lr`` at optimizer step ``step`` (counting from 1)."""
    step = max(step, 1)
    warmup = max(cfg.warmup_steps, 1)
    if cfg.schedule == "constant":
        return min(1.0, step / warmup) if cfg.warmup_steps else 1.0
    if cfg.schedule == "noam":  # Vaswani et al. (2017), scaled by train.lr
        return d_model**-0.5 * min(step**-0.5, step * warmup**-1.5)
    if cfg.schedule == "inverse_sqrt":
        return min(step / warmup, math.sqrt(warmup / step))
    raise ConfigError(f"train.schedule: unknown '{cfg.schedule}'; valid: {', '.join(SCHEDULES)}")


def build_scheduler(optimizer, cfg: TrainConfig, d_model: int):
    lr_factor(1, cfg, d_model)  # validate the name now, not at the first step
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda i: lr_factor(i + 1, cfg, d_model))
