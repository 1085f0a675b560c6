"""Training on several processes with PyTorch's DistributedDataParallel, as started by
``torchrun``: gloo on CPU, NCCL on CUDA (one GPU per process, ``cuda:LOCAL_RANK``).

Every process reads the same token batches of an epoch (the order is a function of the
seed and the epoch) and takes its own share of each optimizer step's batches. Only rank 0
validates, writes the model folder and logs; the others hear the validation results, so
that every process keeps the same learning rate, best result and early-stopping count.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

import torch

from nmtkit.errors import ConfigError, NmtkitError

# Rank 0 validates and saves while the others wait at the next collective operation.
TIMEOUT = timedelta(hours=2)


def env_rank() -> int:
    """This process's rank as torchrun set it (0 when not under torchrun)."""
    return int(os.environ.get("RANK", "0"))


def under_launcher() -> bool:
    """Started by torchrun (its agent forwards Ctrl-C to every worker)."""
    return "TORCHELASTIC_RUN_ID" in os.environ or int(os.environ.get("WORLD_SIZE", "1")) > 1


@dataclass
class Dist:
    rank: int = 0
    world: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world > 1

    def sum(self, values: list[float], device) -> list[float]:
        """``values`` summed over all processes."""
        if not self.active:
            return values
        t = torch.tensor(values, dtype=torch.float64, device=device)
        torch.distributed.all_reduce(t)
        return t.tolist()

    def any(self, flag: bool, device) -> bool:
        """Whether ``flag`` holds in any process."""
        return bool(self.sum([float(flag)], device)[0]) if self.active else flag

    def share(self, obj):
        """Rank 0's ``obj``, in every process."""
        if not self.active:
            return obj
        box = [obj]
        torch.distributed.broadcast_object_list(box, src=0)
        return box[0]

    def gather(self, obj) -> list:
        """Every process's ``obj``, in rank order, in every process."""
        if not self.active:
            return [obj]
        out = [None] * self.world
        torch.distributed.all_gather_object(out, obj)
        return out

    def lost_peer(self, error: BaseException) -> bool:
        """Whether ``error`` says that another process of the group is gone (torch's
        distributed errors, or gloo's broken connections, which reach us as plain
        RuntimeErrors from DDP's gradient hooks)."""
        if not self.active:
            return False
        return isinstance(error, torch.distributed.DistError) or (
            isinstance(error, RuntimeError) and "gloo/transport" in str(error))

    def peer_failed(self, model_dir, checkpoint_step: int | None) -> NmtkitError:
        """The one line for a process of the group that failed: which one (where this
        process can tell), and how to go on."""
        others = [r for r in range(self.world) if r != self.rank]
        who = (f"training process rank {others[0]}" if len(others) == 1 else
               f"another of the {self.world} training processes (torchrun's report names "
               "its rank)")
        then = ("no checkpoint was saved yet: run the same command again to start over"
                if checkpoint_step is None else
                f"run the same command again to resume from the last checkpoint in "
                f"{model_dir}")
        return NmtkitError(f"{who} failed (killed, out of memory, or its machine is "
                           f"gone), so rank {self.rank} stops too; {then}")

    def close(self, finished: bool) -> None:
        """Leave the process group. After a finished run every process first waits for
        the others, so that they leave together: rank 0 is still saving when the others
        are done, and a CI run once saw rank 1, leaving alone, aborted (``terminate called
        without an active exception``). After a failure nobody waits, as a peer may never
        come."""
        if not (self.active and torch.distributed.is_initialized()):
            return
        if finished:
            torch.distributed.barrier()
        torch.distributed.destroy_process_group()


def setup(device: str) -> tuple[Dist, str]:
    """Join the process group torchrun describes in the environment (a single process
    when it describes none); the device this process trains on."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist(), device
    rank, local = env_rank(), int(os.environ.get("LOCAL_RANK", "0"))
    cuda = device.startswith("cuda")
    if cuda:
        if device != "cuda":
            raise ConfigError(f"--device {device}: under torchrun give --device cuda; each "
                              "process takes the GPU of its local rank")
        device = f"cuda:{local}"
        torch.cuda.set_device(device)
    torch.distributed.init_process_group("nccl" if cuda else "gloo", timeout=TIMEOUT)
    return Dist(rank, world), device
