"""One optimizer step: forward and backward over a group of batches (accumulated, and
shared between the processes under torchrun), gradient clipping, the update, and the
checks that skip an update whose loss or gradient is NaN or infinite."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch

from nmtkit.config import TrainConfig
from nmtkit.data.batching import ParallelData
from nmtkit.precision import autocast
from nmtkit.training.loss import token_loss
from nmtkit.training.optim import Schedule, teacher_forcing_ratio


@dataclass
class Update:
    """One optimizer step's outcome."""

    loss: torch.Tensor | None  # summed over the step's target tokens; None: skipped
    tokens: int  # target tokens of the step (all processes)
    overflow: bool = False  # fp16: the gradient scaler skipped it and lowered its scale


@dataclass
class Stepper:
    """What an optimizer step works on: ``net`` (the model, or its DDP wrapper) and
    ``model`` itself, the optimizer, schedule and gradient scaler, the processes, the
    device and precision, the training options and the training data."""

    net: torch.nn.Module
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    schedule: Schedule
    scaler: torch.amp.GradScaler
    dist: object  # nmtkit.training.distributed.Dist
    device: torch.device
    precision: str
    tc: TrainConfig
    data: ParallelData

    def tokens(self, group: list) -> int:
        """Target tokens (EOS included) of the batches in ``group``."""
        lengths = self.data.tgt_lengths  # this epoch's (sampled segmentations differ)
        return sum(int(lengths[idx].sum()) + len(idx) for idx in group)

    def step(self, group: list, step: int) -> Update:
        """Forward and backward over this process's share of ``group`` (gradients summed
        over all its batches and processes, normalised by their total target tokens), clip,
        and update, as step ``step + 1``; skipped when the loss or the gradient is NaN or
        infinite."""
        tc = self.tc
        mine = group[self.dist.rank :: self.dist.world]
        n_tok = self.tokens(group)
        ratio = teacher_forcing_ratio(step, tc)
        self.optimizer.zero_grad(set_to_none=True)
        total = torch.zeros((), device=self.device)
        for i, idx in enumerate(mine):
            batch = self.data.collate(idx).to(self.device)
            # DDP averages the gradients of the processes when the last batch's are ready
            sync = self.net is self.model or i == len(mine) - 1
            with contextlib.nullcontext() if sync else self.net.no_sync():
                with autocast(self.precision, self.device):
                    out = self.net(batch.src, batch.src_lengths, batch.tgt_in, ratio)
                loss = token_loss(out.scores.float(), batch.tgt_out, tc.label_smoothing,
                                  self.model.decoder.no_output)
                if out.aux_loss is not None:
                    loss = loss + out.aux_loss.float()
                share = loss / n_tok
                if self.dist.active:  # undo DDP's average: a sum over the processes
                    share = share * self.dist.world
                self.scaler.scale(share).backward()
            total = total + loss.detach()
        if self.dist.active:
            total = torch.tensor(self.dist.sum([float(total)], self.device)[0])
        if not bool(torch.isfinite(total)):
            self.optimizer.zero_grad(set_to_none=True)
            return Update(None, n_tok)
        self.scaler.unscale_(self.optimizer)
        finite = True
        if tc.clip_norm > 0:
            norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), tc.clip_norm)
            finite = bool(torch.isfinite(norm))
        if not self.scaler.is_enabled():
            if not finite:
                self.optimizer.zero_grad(set_to_none=True)
                return Update(None, n_tok)
            self.schedule.set(step + 1)
            self.optimizer.step()
            return Update(total, n_tok)
        # fp16: the scaler skips the update where the gradient overflowed (found while
        # unscaling, whether or not it was clipped) and lowers its scale
        scale = self.scaler.get_scale()
        self.schedule.set(step + 1)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return Update(total, n_tok, overflow=self.scaler.get_scale() < scale)
