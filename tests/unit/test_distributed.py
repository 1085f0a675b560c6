"""Leaving the process group at the end of training (nmtkit/training/distributed.py): after
a finished run every process waits for the others, rank 0 still saving, before it tears
down its connections; after a failure nobody waits. The collective calls are recorded,
not made."""

from __future__ import annotations

import pytest
import torch

from nmtkit.training.distributed import Dist
from nmtkit.training.trainer import Trainer
from tests.unit.test_trainer import config


@pytest.fixture
def calls(monkeypatch) -> list[str]:
    calls: list[str] = []
    monkeypatch.setattr(torch.distributed, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.distributed, "barrier", lambda: calls.append("barrier"))
    monkeypatch.setattr(torch.distributed, "destroy_process_group",
                        lambda: calls.append("destroy"))
    return calls


def test_a_finished_run_waits_for_every_process_before_leaving(calls):
    Dist(rank=1, world=2).close(finished=True)
    assert calls == ["barrier", "destroy"]


def test_a_failed_run_leaves_without_waiting_for_a_peer_that_may_never_come(calls):
    Dist(rank=1, world=2).close(finished=False)
    assert calls == ["destroy"]


def test_a_single_process_has_no_group_to_leave(calls):
    Dist().close(finished=True)
    assert calls == []


class Recorder(Dist):
    """Dist of a single process that records how the trainer leaves."""

    def __init__(self):
        super().__init__()
        self.closed: list[bool] = []

    def close(self, finished: bool) -> None:
        self.closed.append(finished)


@pytest.mark.parametrize("fail", [False, True])
def test_the_trainer_says_whether_it_finished_when_it_leaves(data_dir, tmp_path, monkeypatch,
                                                             fail):
    trainer = Trainer(config(max_steps=1, valid_every=0), data_dir, tmp_path / "m")
    trainer.dist = Recorder()
    if fail:
        def broken(*args, **kwargs):
            raise RuntimeError("a step failed")
        monkeypatch.setattr(trainer, "_run", broken)
        with pytest.raises(RuntimeError):
            trainer.run()
    else:
        monkeypatch.setattr(trainer, "_run", lambda: "result")
        assert trainer.run() == "result"
    assert trainer.dist.closed == [not fail]
