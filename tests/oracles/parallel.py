"""Reference adapter for the distributed-training chapter: ``torch.distributed.all_reduce`` (SUM) with the gloo
backend on real local processes (one `python this_file.py rank …` per rank, MASTER_ADDR=127.0.0.1, a free port),
test-only. Plain subprocesses with a deadline, not torch.multiprocessing's spawn: under pytest-xdist a spawned rank
once died before reading its pickled arguments and the parent blocked for ever writing them into the pipe."""
from __future__ import annotations

import datetime
import os
import socket
import sys

import numpy as np


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world: int, port: int, folder: str) -> None:
    import torch
    import torch.distributed as dist

    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    torch.set_num_threads(1)
    # a sandbox that blocks local sockets fails here within the timeout instead of hanging the test
    dist.init_process_group("gloo", rank=rank, world_size=world, timeout=datetime.timedelta(seconds=60))
    try:
        t = torch.from_numpy(np.load(os.path.join(folder, "rows.npy"))[rank].copy())
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        np.save(os.path.join(folder, f"{rank}.npy"), t.numpy())   # a file, not a pipe: no size limit
    finally:
        dist.destroy_process_group()


def gloo_all_reduce(rows: np.ndarray, timeout_s: float = 120.0) -> np.ndarray:
    """(K, N) -> (K, N): what each of K gloo processes holds after ``all_reduce(SUM)`` of its own row."""
    import subprocess
    import tempfile
    import time

    rows = np.asarray(rows)
    K = rows.shape[0]
    with tempfile.TemporaryDirectory() as folder:
        np.save(os.path.join(folder, "rows.npy"), rows)
        port = free_port()
        procs = [subprocess.Popen([sys.executable, __file__, str(r), str(K), str(port), folder],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for r in range(K)]
        deadline = time.monotonic() + timeout_s
        try:
            outs = [p.communicate(timeout=max(1.0, deadline - time.monotonic()))[0] for p in procs]
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"gloo all_reduce timed out after {timeout_s:.0f} s") from None
        finally:
            for p in procs:                       # never leave a rank behind
                if p.poll() is None:
                    p.kill()
                    p.wait()
        for r, (p, out) in enumerate(zip(procs, outs)):
            if p.returncode != 0:
                raise RuntimeError(f"rank {r} of the all_reduce exited with {p.returncode}: {out.decode(errors='replace')[-500:]}")
        return np.stack([np.load(os.path.join(folder, f"{rank}.npy")) for rank in range(K)])


if __name__ == "__main__":
    _worker(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
