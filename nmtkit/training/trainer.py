"""The training loop: token-budget batches, optimizer steps, validation, checkpoints.

The library never prints; it reports through :class:`TrainCallbacks`
(:mod:`nmtkit.training.reports`, imported here too), which the CLI renders as a progress
display on a terminal and as plain log lines otherwise.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import replace
from pathlib import Path

import torch

from nmtkit.config import Config, load_yaml, save_yaml
from nmtkit.data.batching import ParallelData, token_batches
from nmtkit.data.preprocess import load_manifest
from nmtkit.data.vocab import Vocab
from nmtkit.device import resolve_device
from nmtkit.errors import ConfigError, NmtkitError
from nmtkit.fileio import StagedDir, read_lines
from nmtkit.model_folder import TRAIN_STATE, ModelFolder, resolved_config
from nmtkit.model_folder.checkpoints import CheckpointKeeper
from nmtkit.model_folder.fit import (
    check_resume_data,
    check_train_target,
    corpus_record,
    record_corpus,
)
from nmtkit.model_folder.metrics_log import MetricsLog, keep_until
from nmtkit.model_folder.tensors import load_tensors
from nmtkit.models.registry import REGISTRIES
from nmtkit.precision import resolve_precision
from nmtkit.training import distributed
from nmtkit.training.fine_tune import init_from
from nmtkit.training.interrupts import StopRequests
from nmtkit.training.memory import release_free_memory
from nmtkit.training.optim import Schedule, build_optimizer
from nmtkit.training.reports import StartReport, StepReport, TrainCallbacks, TrainResult
from nmtkit.training.resume import capture, check_resumable, restore, rng_state
from nmtkit.training.state import Clock, TrainState, Window
from nmtkit.training.step import Stepper, Update
from nmtkit.training.validate import ValidBook, validate

log = logging.getLogger(__name__)
DEFAULT_EPOCHS = 10  # when none of train.max_steps, max_epochs, max_minutes is set


def _vocabs(data_dir: Path) -> tuple[Vocab, Vocab]:
    if not (data_dir / "vocab.src.tsv").exists():
        raise NmtkitError(f"{data_dir}: no vocabulary; run nmtkit build-vocab {data_dir}")
    return Vocab.load(data_dir / "vocab.src.tsv"), Vocab.load(data_dir / "vocab.tgt.tsv")


def with_a_limit(config: Config) -> Config:
    """The config, with ``train.max_epochs`` set to :data:`DEFAULT_EPOCHS` where it sets no
    limit of steps, epochs or minutes."""
    tc = config.train
    if tc.max_steps or tc.max_epochs or tc.max_minutes:
        return config
    return replace(config, train=replace(tc, max_epochs=DEFAULT_EPOCHS))


def check_components(config: Config) -> None:
    """Every component spec names a registered component with valid options (before any
    data is read)."""
    from nmtkit.models.build import resolve  # the models package registers the built-ins

    for key, registry in REGISTRIES.items():
        spec = getattr(config.model, key)
        if spec is not None or key in ("encoder", "decoder"):
            resolve(registry, spec, f"config.model.{key}")


def valid_metric(config: Config, has_valid: bool) -> str:
    """What ranks validations: ``train.valid_metric``, or the loss where validation does not
    translate (``train.valid_bleu: false``)."""
    tc = config.train
    return tc.valid_metric if tc.valid_bleu and has_valid else "loss"


class Trainer:
    """One training run, from a config, a data folder and a model folder: set up by the
    constructor (resuming the training saved in the model folder, if any), run by
    :meth:`run`."""

    def __init__(self, config: Config, data_dir: Path, model_dir: Path,
                 callbacks: TrainCallbacks | None = None, device: str = "cpu",
                 overwrite: bool = False, init: Path | None = None):
        config = with_a_limit(config)
        tc = config.train
        self.dist, device = distributed.setup(device)
        self.config = config
        # Only rank 0 reports; the others train quietly.
        self.cb = (callbacks or TrainCallbacks()) if self.dist.is_main else TrainCallbacks()
        self.device = resolve_device(device)
        self.precision = resolve_precision(tc.precision, self.device)
        check_components(config)
        self.data_dir, self.model_dir = Path(data_dir), Path(model_dir)
        self.manifest = load_manifest(self.data_dir)
        self.resuming = check_train_target(self.model_dir, self.data_dir, overwrite)
        self.overwrite = overwrite
        if tc.threads:
            torch.set_num_threads(tc.threads)
        torch.manual_seed(tc.seed)
        random.seed(tc.seed)
        self._load_data()
        self._build_model(init)
        self._check_options()
        self.state = TrainState(ValidBook(valid_metric(config, self.valid_data is not None)))
        self.nonfinite = 0  # updates skipped in a row for a NaN or infinite loss
        self.checkpoint_step: int | None = None  # of the last checkpoint saved
        self.stopped_early: str | None = None
        if self.dist.active:  # dropout differs between processes (the weights do not)
            torch.manual_seed(tc.seed + 1000 * self.dist.rank)
            random.seed(tc.seed + 1000 * self.dist.rank)
        if self.resuming:
            self._resume()
        self.net = self._wrapped()
        self.stepper = Stepper(self.net, self.model, self.optimizer, self.schedule,
                               self.scaler, self.dist, self.device, self.precision, tc,
                               self.train_data)

    def _load_data(self) -> None:
        self.src_vocab, self.tgt_vocab = _vocabs(self.data_dir)
        tc = self.config.train
        if tc.subword_alpha > 0:  # subword regularization: segmentations sampled each epoch
            from nmtkit.data.sampling import SampledParallelData

            self.train_data = SampledParallelData(
                self.data_dir, self.src_vocab, self.tgt_vocab, self.manifest.tokenizer,
                tc.subword_alpha, tc.seed, tc.max_len)
        else:
            self.train_data = ParallelData(self.data_dir, "train", self.src_vocab,
                                           self.tgt_vocab)
        self.valid_data = None
        if "valid" in self.manifest.splits:
            self.valid_data = ParallelData(self.data_dir, "valid", self.src_vocab, self.tgt_vocab)

    def _build_model(self, init: Path | None) -> None:
        """The model (from ``init``'s weights when fine-tuning), its optimizer, learning-rate
        schedule and gradient scaler."""
        from nmtkit.models.seq2seq import Seq2Seq

        tc = self.config.train
        self.model = Seq2Seq(self.config.model, len(self.src_vocab), len(self.tgt_vocab))
        if init is not None and not self.resuming:
            init_from(Path(init), self.model, self.data_dir, self.manifest)
        self.model.to(self.device)
        self.optimizer = build_optimizer(self.model.parameters(), tc)
        self.schedule = Schedule(self.optimizer, tc, self.config.model.embed_dim)
        # fp16 needs its gradients scaled; for other precisions the scaler does nothing.
        self.scaler = torch.amp.GradScaler(self.device.type,
                                           enabled=self.precision == "fp16")

    def _check_options(self) -> None:
        """Training options that need something of the data or the model."""
        tc = self.config.train
        if tc.early_stopping and self.valid_data is None:
            raise ConfigError(f"train.early_stopping needs validation data, and "
                              f"{self.data_dir} has none; preprocess with --valid-src and "
                              "--valid-tgt")
        if tc.teacher_forcing < 1.0 and not self.model.decoder.supports_scheduled_sampling:
            raise ConfigError(f"train.teacher_forcing < 1 (scheduled sampling) is not supported "
                              f"by decoder '{self.config.model.decoder['type']}'")

    def _wrapped(self) -> torch.nn.Module:
        """What training steps call: the model, or its DDP wrapper under torchrun."""
        if not self.dist.active:
            return self.model
        from torch.nn.parallel import DistributedDataParallel

        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(self.model, device_ids=ids)

    @property
    def parts(self) -> dict:
        """What a checkpoint saves beside :attr:`state`, by its name in ``train_state.pt``."""
        return {"model": self.model, "optimizer": self.optimizer, "schedule": self.schedule,
                "scaler": self.scaler}

    def _resume(self) -> None:
        """Continue the training saved in the model folder: same model and vocabularies,
        changed training options with a warning each."""
        folder = ModelFolder.open(self.model_dir)
        meta = folder.meta()
        check_resume_data(folder, meta, self.data_dir)
        new_corpus = record_corpus(folder, meta, self.data_dir, write=self.dist.is_main)
        saved = load_yaml(self.model_dir / "config.yaml")
        new = resolved_config(self.config, self.model.components)
        for warning in check_resumable(saved, new, str(self.model_dir)):
            log.warning("warning: %s", warning)
        path = self.model_dir / TRAIN_STATE
        st, tc = self.state, self.config.train
        for warning in restore(load_tensors(path), str(path), st, self.parts, self.dist,
                               tc.seed):
            log.warning("warning: %s", warning)
        if new_corpus:  # the batch position means nothing in other data
            st.batch_in_epoch = 0
            log.warning("warning: resuming on another training corpus: %s is not the data "
                        "this run trained on so far (%s); training goes on from the start "
                        "of epoch %d on it, and meta.json records the change", self.data_dir,
                        new_corpus, st.epoch)
        self.checkpoint_step = st.step
        if self._limit_reached(st.seconds_before) or (
                tc.max_epochs and st.epoch >= tc.max_epochs):
            raise NmtkitError(
                f"{self.model_dir}: training already reached its limit (step {st.step}, "
                f"epoch {st.epoch}); raise train.max_steps, max_epochs or max_minutes to "
                "train on, or pass --overwrite to start a new model")
        log.info("resuming %s from step %d (epoch %d)", self.model_dir, st.step, st.epoch)

    def _valid_refs(self):
        if not self.config.train.valid_bleu or self.valid_data is None:
            return None, None
        spec = self.manifest.tokenizer
        return read_lines(self.data_dir / "valid.tgt.txt"), spec.build(self.data_dir, "tgt")

    def run(self) -> TrainResult:
        """Train, building the model folder under a temporary name beside ``model_dir``
        and swapping it in at the first checkpoint, when it holds a loadable model; an
        interrupted run before that leaves ``model_dir`` as it was."""
        # Under torchrun its agent passes Ctrl-C on to every worker after the terminal
        # did: a repeated signal there must not cut the checkpoint short.
        self.stops = StopRequests(second_exits=not distributed.under_launcher())
        # A resumed run writes in place: every file is replaced atomically, one by one.
        self.staged = None
        if not self.resuming and self.dist.is_main:
            self.staged = StagedDir(self.model_dir, replace=self.overwrite)
        self.folder = ModelFolder(self.model_dir if self.staged is None else self.staged.path)
        self.metrics = MetricsLog(self.folder, self.config.train.tensorboard,
                                  self.dist.is_main)
        finished = False
        try:
            with self.stops:
                result = self._run()
            finished = True
            return result
        except RuntimeError as e:
            if not self.dist.lost_peer(e):
                raise
            raise self.dist.peer_failed(self.model_dir, self.checkpoint_step) from None
        finally:
            self.metrics.close()
            if self.staged is not None:
                self.staged.discard()
            self.dist.close(finished)

    def _run(self) -> TrainResult:
        """The training loop: epoch after epoch, one optimizer step per group of batches, a
        log line every ``train.log_every`` steps, a checkpoint every ``train.valid_every``,
        until a limit, early stopping or a stop request ends it with a last checkpoint."""
        tc, st = self.config.train, self.state
        self._open_folder()
        self.cb.on_start(StartReport(parameters=self.model.n_parameters(),
                                     train_pairs=len(self.train_data),
                                     model_dir=self.model_dir, precision=self.precision))
        self.clock = Clock(st.seconds_before, time.time)
        window = Window(self.clock)
        self.model.train()
        stop = False
        while not stop:
            batches = self._epoch_batches()
            for group in self._groups(batches):
                update = self._optimizer_step(group)
                if not self._counts(update):
                    continue
                window.add(float(update.loss), update.tokens)
                stop = self.dist.any(self._limit_reached(self.clock.elapsed())
                                     or self.stops.signum is not None, self.device)
                if st.step % tc.log_every == 0 or stop:
                    self._log(window, len(batches))
                if stop or (tc.valid_every and st.step % tc.valid_every == 0):
                    self._checkpoint()
                    stop = stop or self._patience_spent()
                if stop:
                    break
            if st.batch_in_epoch >= len(batches):
                st.epoch += 1
                st.batch_in_epoch = 0
                if tc.max_epochs and st.epoch >= tc.max_epochs and not stop:
                    self._checkpoint()
                    stop = True
        return self._finish(len(batches))

    def _open_folder(self) -> None:
        """Write the model folder's files that come before the first weights (a resumed run:
        the config as this run has it, the log and checkpoints cut back to its step)."""
        tc = self.config.train
        config = resolved_config(self.config, self.model.components)
        self.keeper = CheckpointKeeper(self.folder, tc.keep_last, tc.keep_best,
                                       self.state.book.metric)
        self.refs, self.ref_tokenizer = self._valid_refs()
        if self.dist.is_main and self.resuming:
            save_yaml(config, self.folder.path / "config.yaml")
            keep_until(self.folder.path, self.state.step)
            self.keeper.trim(self.state.step)
        elif self.dist.is_main:
            self.folder.prepare(config, self.data_dir, self.manifest, self.model.components,
                                self.model.n_parameters())
            self.folder.write_meta({"corpus": corpus_record(self.data_dir)})
        self.metrics.open(self.state.step)

    def _epoch_batches(self) -> list:
        """This epoch's batches (their order, and sampled segmentations with
        ``train.subword_alpha``, a function of the seed and the epoch), as many as a
        multiple of the number of processes."""
        tc, world = self.config.train, self.dist.world
        gen = torch.Generator().manual_seed(tc.seed + self.state.epoch)
        data = self.train_data
        data.start_epoch(self.state.epoch)
        batches = token_batches(data.src_lengths, data.tgt_lengths, tc.batch_tokens, gen,
                                tc.max_len)
        if len(batches) < world:
            raise NmtkitError(f"{self.data_dir}: no training pair fits train.max_len="
                              f"{tc.max_len} and train.batch_tokens={tc.batch_tokens}"
                              if not batches else
                              f"{self.data_dir}: {len(batches)} batches an epoch, fewer "
                              f"than the {world} processes; lower train.batch_tokens")
        # every process gets a batch of each step: the last few batches wait a turn
        return batches[:len(batches) - len(batches) % world]

    def _groups(self, batches: list):
        """The groups of batches of this epoch's optimizer steps, from where it stands: each
        step takes ``train.accumulate`` batches a process."""
        span = self.config.train.accumulate * self.dist.world
        st = self.state
        while st.batch_in_epoch < len(batches):
            group = batches[st.batch_in_epoch : st.batch_in_epoch + span]
            st.batch_in_epoch += len(group)
            yield group

    def _counts(self, update: Update) -> bool:
        """Count an optimizer step that was taken; False for one that was skipped."""
        if update.overflow:
            log.debug("step %d: fp16 gradient overflow; scale lowered to %g",
                      self.state.step + 1, self.scaler.get_scale())
            return False
        if update.loss is None:
            self._skipped_update()
            return False
        self.nonfinite = 0
        self.state.step += 1
        self.state.tgt_tokens += update.tokens
        return True

    def _log(self, window: Window, n_batches: int) -> None:
        """Report the log window (callbacks and ``metrics.jsonl``) and start the next."""
        release_free_memory()
        elapsed = self.clock.elapsed()
        progress = self._progress(elapsed, n_batches)
        report = StepReport(
            self.state.step, self.state.epoch, window.loss_per_token(),
            window.tokens_per_sec(), self.optimizer.param_groups[0]["lr"], elapsed,
            progress, elapsed * (1 - progress) / progress if progress else None)
        self.cb.on_step(report)
        self.metrics.append({
            "step": report.step, "epoch": report.epoch, "loss": round(report.loss, 5),
            "lr": report.lr, "tokens_per_sec": round(report.tokens_per_sec, 1),
            "elapsed": round(report.elapsed, 2)})
        window.reset()

    def _finish(self, n_batches: int) -> TrainResult:
        st = self.state
        seconds = self.clock.elapsed()
        result = TrainResult(
            model_dir=self.model_dir, steps=st.step,
            epochs=st.epoch + st.batch_in_epoch / max(n_batches, 1), seconds=seconds,
            tgt_tokens=st.tgt_tokens, tokens_per_sec=st.tgt_tokens / max(seconds, 1e-9),
            parameters=self.model.n_parameters(), best=st.book.best, last=st.book.last,
            interrupted=self.stops.status, stopped_early=self.stopped_early)
        self.cb.on_end(result)
        return result

    def _patience_spent(self) -> bool:
        """Early stopping: ``train.early_stopping`` validations in a row without a better
        result."""
        patience = self.config.train.early_stopping
        if not patience or self.state.book.bad < patience:
            return False
        self.stopped_early = self.state.book.describe_stop(patience)
        log.info("%s", self.stopped_early)
        return True

    def _optimizer_step(self, group: list) -> Update:
        return self.stepper.step(group, self.state.step)

    def _skipped_update(self) -> None:
        """Count an update skipped for a NaN or infinite loss or gradient; too many in a row
        stop training with the last checkpoint as it was."""
        self.nonfinite += 1
        log.warning("warning: step %d: the loss or its gradient is NaN or infinite; update "
                    "skipped (%d in a row)", self.state.step + 1, self.nonfinite)
        if self.nonfinite >= self.config.train.max_nonfinite:
            saved = (f"the checkpoint of step {self.checkpoint_step} in {self.model_dir} is "
                     "intact" if self.checkpoint_step is not None else "no checkpoint was made")
            raise NmtkitError(
                f"training stopped: the loss or its gradient was NaN or infinite "
                f"{self.nonfinite} times in a row (up to step {self.state.step + 1}); {saved}; "
                "lower train.lr or clip gradients (train.clip_norm)")

    def _limit_reached(self, elapsed: float) -> bool:
        tc = self.config.train
        return bool((tc.max_steps and self.state.step >= tc.max_steps)
                    or (tc.max_minutes and elapsed >= tc.max_minutes * 60))

    def _progress(self, elapsed: float, n_batches: int) -> float | None:
        tc = self.config.train
        parts = []
        if tc.max_steps:
            parts.append(self.state.step / tc.max_steps)
        if tc.max_minutes:
            parts.append(elapsed / (tc.max_minutes * 60))
        if tc.max_epochs:
            parts.append((self.state.epoch + self.state.batch_in_epoch / n_batches) / tc.max_epochs)
        return min(1.0, max(parts)) if parts else None

    def _checkpoint(self) -> None:
        """Validate (when there is validation data), keep the best weights, save the state;
        the time it takes is not training time."""
        t0 = time.time()
        self._save_checkpoint(train_seconds=self.clock.elapsed())
        # The folder now holds a loadable model: swap it in (a resumed run writes in place).
        if self.staged is not None and not self.staged.committed:
            self.staged.commit()
            self.folder.path = self.staged.path
            self.metrics.moved()
        self.clock.pause(time.time() - t0)

    def _save_checkpoint(self, train_seconds: float) -> None:
        tc = self.config.train
        result = None
        if self.valid_data is not None:
            if self.dist.is_main:
                result = validate(self.model, self.valid_data, self.state.step, tc.batch_tokens,
                                  self.device, self.refs, self.tgt_vocab, self.ref_tokenizer,
                                  tc.valid_batch_size)
            result = self.dist.share(result)
        is_best = True
        if result is not None:
            self.schedule.on_validation(result.loss)
            is_best = self.state.book.record(result)
            self.cb.on_valid(result, is_best)
        rngs = self.dist.gather(rng_state())
        self.checkpoint_step = self.state.step
        if not self.dist.is_main:
            return
        if result is not None:
            self.metrics.append({"step": result.step, "valid_loss": result.loss,
                                 "valid_ppl": result.ppl, "valid_bleu": result.bleu,
                                 "valid_chrf": result.chrf})
        if is_best:
            self.folder.save_weights(self.model)
        self.keeper.save(self.state.step, result,
                         lambda path: self.folder.save_weights(self.model, path))
        self.folder.save_train_state(capture(self.state, self.parts, train_seconds, rngs))
        best = self.state.book.best
        self.folder.write_meta({"steps": self.state.step, "epoch": self.state.epoch,
                                "tgt_tokens": self.state.tgt_tokens,
                                "train_seconds": round(train_seconds, 2),
                                "best_valid": None if best is None else {
                                    "step": best.step, "loss": best.loss, "ppl": best.ppl,
                                    "bleu": best.bleu, "chrf": best.chrf,
                                    "metric": self.state.book.metric}})


def train(config: Config, data_dir: Path, model_dir: Path,
          callbacks: TrainCallbacks | None = None, device: str = "cpu",
          overwrite: bool = False, init: Path | None = None) -> TrainResult:
    return Trainer(config, data_dir, model_dir, callbacks, device, overwrite, init).run()
