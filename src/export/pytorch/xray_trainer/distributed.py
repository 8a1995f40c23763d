"""One process or many (torchrun): rank, world size and device, sums and gathers over the processes, and rank 0's
weights in every process."""

import os
import sys
import threading

import torch
import torch.distributed as dist


# Seconds a process waits for its distributed process group to close at the end of a run (see Runtime.close).
CLOSE_TIMEOUT_S = 30


class Runtime:
    """Rank, world size and device; DistributedDataParallel when started by torchrun with more than one process."""

    def __init__(self, device_choice):
        self.world = int(os.environ.get('WORLD_SIZE', '1'))
        self.rank = int(os.environ.get('RANK', '0'))
        self.local_rank = int(os.environ.get('LOCAL_RANK', '0'))
        self.local_world = int(os.environ.get('LOCAL_WORLD_SIZE', str(self.world)))
        use_cuda = torch.cuda.is_available() if device_choice == 'auto' else device_choice == 'cuda'
        if use_cuda:
            torch.cuda.set_device(self.local_rank % torch.cuda.device_count())
            self.device = torch.device('cuda', torch.cuda.current_device())
        else:
            # Threads per process: torch's default, or OMP_NUM_THREADS (torchrun sets 1 when it starts several
            # processes and it is unset; on a CPU-only machine set it to cores / processes).
            self.device = torch.device('cpu')
        self.distributed = self.world > 1
        if self.distributed:
            dist.init_process_group('nccl' if use_cuda else 'gloo')

    @property
    def main(self):
        return self.rank == 0

    def log(self, *parts):
        if self.main:
            print(*parts, flush=True)

    def sum(self, values):
        """Element-wise sum over the processes of a list of floats."""
        if not self.distributed:
            return values
        tensor = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.all_reduce(tensor)
        return tensor.tolist()

    def gather(self, obj):
        if not self.distributed:
            return [obj]
        out = [None] * self.world
        dist.all_gather_object(out, obj)
        return out

    def close(self, finished):
        if not self.distributed:
            return
        if not finished:  # After a failure the others may never reach a barrier (torchrun ends them); the error prints.
            dist.destroy_process_group()
            return
        dist.barrier()
        # Debian's torch 1.13 with gloo once hung here for good, in one of many runs: after the barrier (the model
        # written), a process spun on a core until killed. The group is closed in a thread; if it has not closed in
        # CLOSE_TIMEOUT_S, or once it has (the same hang can come at interpreter exit), the process ends at once:
        # everything it had to write is written and flushed.
        closed = threading.Event()
        threading.Thread(target=lambda: (dist.destroy_process_group(), closed.set()), daemon=True).start()
        if not closed.wait(CLOSE_TIMEOUT_S):
            print(f'process {self.rank}: the process group did not close in {CLOSE_TIMEOUT_S} s; ending the process anyway.', file=sys.stderr, flush=True)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def synced_state(model, runtime):
    """A copy of all of the model's weights (BatchNorm's running statistics too) as rank 0 holds them, in every
    process (each process's running statistics drift by its own last batch)."""
    state = {key: value.detach().clone() for key, value in model.state_dict().items()}
    if runtime.distributed:
        for value in state.values():
            dist.broadcast(value, src=0)
    return {key: value.cpu() for key, value in state.items()}
