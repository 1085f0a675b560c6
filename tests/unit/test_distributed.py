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


GLOO_LOST = RuntimeError("[/pytorch/third_party/gloo/gloo/transport/tcp/pair.cc:537] Read "
                         "error [127.0.0.1]:28082: Connection reset by peer")


@pytest.mark.parametrize("error, lost", [
    (GLOO_LOST, True),
    (torch.distributed.DistBackendError("NCCL communicator was aborted"), True),
    (RuntimeError("mat1 and mat2 shapes cannot be multiplied"), False),
    (ValueError("gloo/transport"), False),
])
def test_a_broken_connection_to_a_peer_is_told_from_other_errors(error, lost):
    assert Dist(rank=0, world=2).lost_peer(error) is lost
    assert not Dist().lost_peer(error)  # a single process has no peers


class Peers(Recorder):
    """A rank of a group, that records how the trainer leaves."""

    def __init__(self, rank: int, world: int):
        super().__init__()
        self.rank, self.world = rank, world


@pytest.mark.parametrize("rank, world, checkpoint, said", [
    (0, 2, 4, "training process rank 1 failed (killed, out of memory, or its machine is gone), "
              "so rank 0 stops too; run the same command again to resume from the last "
              "checkpoint in {m}"),
    (1, 2, None, "training process rank 0 failed (killed, out of memory, or its machine is "
                 "gone), so rank 1 stops too; no checkpoint was saved yet: run the same command "
                 "again to start over"),
    (2, 4, 4, "another of the 4 training processes (torchrun's report names its rank) failed "
              "(killed, out of memory, or its machine is gone), so rank 2 stops too; run the "
              "same command again to resume from the last checkpoint in {m}"),
])
def test_a_peer_lost_in_training_is_one_line_saying_which_and_how_to_resume(
        data_dir, tmp_path, monkeypatch, rank, world, checkpoint, said):
    from nmtkit.errors import NmtkitError

    trainer = Trainer(config(max_steps=1, valid_every=0), data_dir, tmp_path / "m")
    trainer.dist = Peers(rank, world)
    trainer.checkpoint_step = checkpoint

    def broken():
        raise GLOO_LOST
    monkeypatch.setattr(trainer, "_run", broken)
    with pytest.raises(NmtkitError) as caught:
        trainer.run()
    assert str(caught.value) == said.format(m=tmp_path / "m")
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert trainer.dist.closed == [False]  # left without waiting for the lost peer
