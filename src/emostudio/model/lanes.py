"""Model lanes on CPU: how waveforms are grouped into batches, and running independent batches side by side.

On a CPU with few cores, one batch computed by all cores at once is not the fastest way through many batches:
every operator of the network (about 400 per forward pass) ends in a barrier where the cores wait for each
other, elementwise work (GELU, LayerNorm, copies) gains little from a second thread, and on a machine shared
with other work one descheduled thread stalls its partner at every barrier. `Lanes` runs whole batches on
`count` threads of their own (lanes) instead (each with `threads_each` intra-op threads), longest first, so the cores
work independently and only meet at the end of a call. A single batch (one short clip) still runs on the
calling thread with every core, so per-clip latency is unchanged.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait

import torch


def plan_batches(lengths: Sequence[int], budget: float) -> list[list[int]]:
    """Indices of items in length-sorted batches whose padded size (items × longest) is at most `budget` (same
    unit as `lengths`); an item longer than the budget is a batch of its own. Shortest batches first."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches: list[list[int]] = []
    batch: list[int] = []
    for i in order:
        # sorted ascending, so the newest item is the longest: padded size = count × its length
        if batch and (len(batch) + 1) * lengths[i] > budget:
            batches.append(batch)
            batch = []
        batch.append(i)
    if batch:
        batches.append(batch)
    return batches


def _set_threads(n: int) -> None:
    torch.set_num_threads(n)  # this thread's intra-op (OpenMP and MKL) thread count


class Lanes:
    """`count` worker threads that each run whole model batches with `threads_each` intra-op threads.

    torch's intra-op thread count belongs to the thread that sets it, so each worker sets its own once, and the
    calling thread's count is set back to `caller_threads` (torch also keeps the last count set anywhere as
    the default for threads that never set one)."""

    def __init__(self, count: int, threads_each: int, caller_threads: int):
        if count < 1 or threads_each < 1 or caller_threads < 1:
            raise ValueError(f"lanes: count, threads_each and caller_threads must be ≥ 1, got "
                             f"{count}, {threads_each}, {caller_threads}")  # fmt: skip
        self.count, self.threads_each, self.caller_threads = count, threads_each, caller_threads
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    self.count,
                    thread_name_prefix="emostudio-model",
                    initializer=_set_threads,
                    initargs=(self.threads_each,),
                )
            return self._pool

    def run(
        self, fn: Callable[[list[int]], None], batches: list[list[int]], cost: Callable[[list[int]], float]
    ):
        """Call `fn(batch)` for every batch: on the calling thread when there is one batch or one lane,
        otherwise on the workers, costliest first. Returns when all are done; the first failure is raised after
        the other batches have finished or been cancelled."""
        if torch.get_num_threads() != self.caller_threads:
            _set_threads(self.caller_threads)
        if len(batches) < 2 or self.count < 2:
            for batch in batches:
                fn(batch)
            return
        pool = self._executor()
        futures: list[Future] = [pool.submit(fn, b) for b in sorted(batches, key=cost, reverse=True)]
        try:
            for f in futures:
                f.result()
        finally:
            for f in futures:
                f.cancel()
            wait(futures)
            _set_threads(self.caller_threads)  # the workers' first set_num_threads changed torch's default

    def close(self) -> None:
        """Stop the worker threads (they are made again on the next `run`)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
