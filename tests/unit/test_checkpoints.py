"""nmtkit/model_folder/checkpoints.py and the validation bookkeeping: which step checkpoints
are kept, what a resumed run forgets, and when early stopping's patience is spent."""

from __future__ import annotations

import math
from dataclasses import asdict

import pytest

from nmtkit.model_folder import ModelFolder
from nmtkit.model_folder.checkpoints import CheckpointKeeper, kept, ranked, read_index
from nmtkit.training.validate import ValidBook, ValidResult, better


def result(step: int, loss: float, bleu: float | None = None, chrf: float | None = None):
    return ValidResult(step, loss, math.exp(loss), bleu, 0.0, chrf)


def entry(step: int, loss: float | None = None, bleu: float | None = None) -> dict:
    valid = None if loss is None else asdict(result(step, loss, bleu))
    return {"step": step, "file": f"checkpoint-{step}.pt", "valid": valid}


def steps(entries) -> list[int]:
    return [e["step"] for e in entries]


def test_keep_last_and_keep_best_are_a_union():
    entries = [entry(10, 3.0), entry(20, 1.0), entry(30, 2.0), entry(40, 2.5), entry(50, 4.0)]
    assert steps(kept(entries, keep_last=2, keep_best=0, metric="loss")) == [40, 50]
    assert steps(kept(entries, keep_last=0, keep_best=2, metric="loss")) == [20, 30]
    assert steps(kept(entries, keep_last=2, keep_best=2, metric="loss")) == [20, 30, 40, 50]
    assert steps(kept(entries, keep_last=1, keep_best=1, metric="loss")) == [20, 50]


def test_best_ranks_by_the_metric_and_skips_unvalidated_checkpoints():
    entries = [entry(1, 1.0, 10.0), entry(2), entry(3, 2.0, 30.0), entry(4, 0.5, 20.0)]
    assert steps(ranked(entries, "bleu")) == [3, 4, 1]  # higher BLEU first
    assert steps(ranked(entries, "loss")) == [4, 1, 3]  # lower loss first
    tie = [entry(5, 1.0), entry(6, 1.0)]
    assert steps(ranked(tie, "loss")) == [5, 6]  # the earlier step wins a tie


def test_the_keeper_writes_kept_files_removes_dropped_ones_and_trims_on_resume(tmp_path):
    written = []

    def write(path):
        written.append(path.name)
        path.write_bytes(b"weights")

    keeper = CheckpointKeeper(ModelFolder(tmp_path), keep_last=2, keep_best=1, metric="loss")
    for step, loss in ((1, 2.0), (2, 1.0), (3, 3.0), (4, 4.0)):
        keeper.save(step, result(step, loss), write)
    assert written == [f"checkpoint-{s}.pt" for s in (1, 2, 3, 4)]
    # step 2 is the best; 3 and 4 the last two; 1 fell out and its file is gone
    assert steps(read_index(tmp_path)["checkpoints"]) == [2, 3, 4]
    assert sorted(p.name for p in tmp_path.glob("checkpoint-*.pt")) == [
        "checkpoint-2.pt", "checkpoint-3.pt", "checkpoint-4.pt"]
    keeper.trim(3)  # a run resumed from step 3 takes step 4 again
    assert steps(read_index(tmp_path)["checkpoints"]) == [2, 3]
    assert not (tmp_path / "checkpoint-4.pt").exists()
    assert read_index(tmp_path)["metric"] == "loss"


def test_a_checkpoint_the_rules_do_not_keep_is_never_written(tmp_path):
    written = []
    keeper = CheckpointKeeper(ModelFolder(tmp_path), keep_last=0, keep_best=1, metric="bleu")
    keeper.save(1, result(1, 1.0, bleu=20.0), lambda p: written.append(p.name))
    keeper.save(2, result(2, 1.0, bleu=10.0), lambda p: written.append(p.name))
    assert written == ["checkpoint-1.pt"]
    assert steps(read_index(tmp_path)["checkpoints"]) == [1]


@pytest.mark.parametrize("metric, a, b", [
    ("loss", result(1, 1.0), result(2, 2.0)),
    ("bleu", result(1, 9.0, bleu=30.0), result(2, 1.0, bleu=20.0)),
    ("chrf", result(1, 9.0, chrf=60.0), result(2, 1.0, chrf=50.0)),
])
def test_better_means_lower_loss_or_higher_bleu_and_chrf(metric, a, b):
    assert better(a, b, metric) and not better(b, a, metric)
    assert better(a, None, metric)


def test_early_stopping_counts_validations_without_a_better_result():
    book = ValidBook("loss")
    flags = [book.record(result(s, loss)) for s, loss in
             ((1, 3.0), (2, 2.0), (3, 2.5), (4, 2.1), (5, 1.0), (6, 1.5))]
    assert flags == [True, True, False, False, True, False]
    assert book.bad == 1 and book.best.step == 5 and book.last.step == 6
    book.record(result(7, 1.2))
    assert book.bad == 2
    assert book.describe_stop(2) == ("stopped early at step 7: valid loss has not beaten 1 "
                                     "(step 5) in 2 validations")
