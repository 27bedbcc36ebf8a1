"""Greedy batching for the model service: the calls that arrive while a batch runs form the next.

BentoML's adaptive batching was replaced by this because of what it did under the fuzz: it holds
a call back for as long as calls have waited on average lately, so after a burst every lone call
waited that long (a photo took 277 ms before a 1,000-request fuzz and 2,121 ms after it). It also
answers 503 to a call it expects to finish late. This batcher never holds back a call when the
model is idle and never sheds one; the API service's queue (serving.queue) is what bounds the load.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable, Sequence
from typing import Any


class Batcher:
    """`await batcher(units)` runs `run` on these units together with those of the calls waiting
    beside them, at most `max_units` at once (a larger call runs alone), and returns its share of
    the results. `run` maps a list of units to a sequence of as many results, in one thread."""

    def __init__(self, run: Callable[[list], Sequence], max_units: int):
        self._run = run
        self._max_units = max(1, max_units)
        self._waiting: collections.deque[tuple[Sequence, asyncio.Future]] = collections.deque()
        self._draining = False

    async def __call__(self, units: Sequence) -> Sequence:
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((units, future))
        if not self._draining:
            self._draining = True
            asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while batch := self._take():
                flat = [u for units, _ in batch for u in units]
                try:
                    results = await asyncio.to_thread(self._run, flat) if flat else []
                    if len(results) != len(flat):
                        raise RuntimeError(f"batch of {len(flat)} gave {len(results)} results")
                except Exception as err:  # every caller of the batch hears of it
                    for _, future in batch:
                        _settle(future, error=err)
                    continue
                start = 0
                for units, future in batch:
                    _settle(future, result=results[start : start + len(units)])
                    start += len(units)
        finally:
            self._draining = False

    def _take(self) -> list[tuple[Sequence, asyncio.Future]]:
        batch, size = [], 0
        while self._waiting:
            units, future = self._waiting[0]
            if future.done():  # its request was cancelled (the client left): nothing to compute
                self._waiting.popleft()
                continue
            if batch and size + len(units) > self._max_units:
                break
            batch.append(self._waiting.popleft())
            size += len(units)
        return batch


def _settle(future: asyncio.Future, result: Any = None, error: Exception | None = None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
