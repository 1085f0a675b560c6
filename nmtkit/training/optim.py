"""Optimisers, learning-rate schedules and the teacher-forcing schedule."""

from __future__ import annotations

import math

import torch

from nmtkit.config import OPTIMIZERS, SCHEDULES, TrainConfig
from nmtkit.errors import ConfigError


def build_optimizer(params, cfg: TrainConfig) -> torch.optim.Optimizer:
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, betas=cfg.betas, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, betas=cfg.betas, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    raise ConfigError(f"train.optimizer: unknown '{cfg.optimizer}'; "
                      f"valid: {', '.join(OPTIMIZERS)}")


def lr_factor(step: int, cfg: TrainConfig, d_model: int) -> float:
    """Multiplier of ``train.lr`` at optimizer step ``step`` (counting from 1), before any
    reduce-on-plateau scaling."""
    step = max(step, 1)
    warmup = max(cfg.warmup_steps, 1)
    if cfg.schedule in ("constant", "reduce_on_plateau"):
        return min(1.0, step / warmup) if cfg.warmup_steps else 1.0
    if cfg.schedule == "noam":  # Vaswani et al. (2017), scaled by train.lr
        return d_model**-0.5 * min(step**-0.5, step * warmup**-1.5)
    if cfg.schedule == "inverse_sqrt":
        return min(step / warmup, math.sqrt(warmup / step))
    raise ConfigError(f"train.schedule: unknown '{cfg.schedule}'; valid: {', '.join(SCHEDULES)}")


class Schedule:
    """Sets the learning rate before each optimizer step; ``reduce_on_plateau`` multiplies
    it by ``train.plateau_factor`` after ``train.plateau_patience`` validations without a
    lower validation loss."""

    def __init__(self, optimizer: torch.optim.Optimizer, cfg: TrainConfig, d_model: int):
        lr_factor(1, cfg, d_model)  # validate the name now, not at the first step
        self.optimizer, self.cfg, self.d_model = optimizer, cfg, d_model
        self.scale = 1.0
        self.best = math.inf
        self.bad = 0

    def lr(self, step: int) -> float:
        return self.cfg.lr * lr_factor(step, self.cfg, self.d_model) * self.scale

    def set(self, step: int) -> None:
        lr = self.lr(step)
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def on_validation(self, loss: float) -> None:
        if self.cfg.schedule != "reduce_on_plateau":
            return
        if loss < self.best:
            self.best, self.bad = loss, 0
            return
        self.bad += 1
        if self.bad > self.cfg.plateau_patience:
            self.scale *= self.cfg.plateau_factor
            self.bad = 0

    def state_dict(self) -> dict:
        return {"scale": self.scale, "best": self.best, "bad": self.bad}

    def load_state_dict(self, state: dict) -> None:
        self.scale, self.best, self.bad = state["scale"], state["best"], state["bad"]


def teacher_forcing_ratio(step: int, cfg: TrainConfig) -> float:
    """Linear decay from 1 to ``train.teacher_forcing`` over ``teacher_forcing_steps``."""
    if cfg.teacher_forcing_steps <= 0:
        return cfg.teacher_forcing
    done = min(1.0, step / cfg.teacher_forcing_steps)
    return 1.0 - done * (1.0 - cfg.teacher_forcing)
