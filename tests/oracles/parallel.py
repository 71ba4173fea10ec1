"""Reference adapter for the distributed-training chapter: ``torch.distributed.all_reduce`` (SUM) with the gloo
backend on real local processes (torch.multiprocessing spawn, MASTER_ADDR=127.0.0.1, a free port), test-only."""
from __future__ import annotations

import datetime
import os
import socket

import numpy as np


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, rows: np.ndarray, folder: str) -> None:
    import torch
    import torch.distributed as dist

    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    torch.set_num_threads(1)
    # a sandbox that blocks local sockets fails here within the timeout instead of hanging the test
    dist.init_process_group("gloo", rank=rank, world_size=world, timeout=datetime.timedelta(seconds=60))
    try:
        t = torch.from_numpy(np.array(rows[rank]))
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        np.save(os.path.join(folder, f"{rank}.npy"), t.numpy())   # a file, not a pipe: no size limit
    finally:
        dist.destroy_process_group()


def gloo_all_reduce(rows: np.ndarray) -> np.ndarray:
    """(K, N) -> (K, N): what each of K gloo processes holds after ``all_reduce(SUM)`` of its own row."""
    import tempfile

    import torch.multiprocessing as mp

    rows = np.asarray(rows)
    K = rows.shape[0]
    import time

    with tempfile.TemporaryDirectory() as folder:
        ctx = mp.start_processes(_worker, args=(K, free_port(), rows, folder), nprocs=K, join=False,
                                 start_method="spawn")
        # never wait forever (a full suite under pytest-xdist once left one rank waiting on the other): a deadline,
        # then the ranks are stopped and the caller skips with the reason
        deadline = time.monotonic() + 120
        while not ctx.join(timeout=5):
            if time.monotonic() > deadline:
                for proc in ctx.processes:
                    if proc.is_alive():
                        proc.kill()
                raise TimeoutError("gloo all_reduce timed out after 120 s")
        return np.stack([np.load(os.path.join(folder, f"{rank}.npy")) for rank in range(K)])
