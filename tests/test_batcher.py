"""The model service's batcher: a lone call runs at once; calls that arrive while a batch runs go
together into the next one, up to its size; each caller gets its own results or its batch's error."""

import asyncio
import threading

import pytest

from serving.batcher import Batcher


class Model:
    """Multiplies by ten; records each batch; holds the first batch until released."""

    def __init__(self, fail_on: int | None = None):
        self.batches: list[list[int]] = []
        self.release = threading.Event()
        self.fail_on = fail_on

    def __call__(self, units: list[int]) -> list[int]:
        self.batches.append(list(units))
        if len(self.batches) == 1:
            self.release.wait(10)
        if self.fail_on in units:
            raise ValueError(f"cannot score {self.fail_on}")
        return [u * 10 for u in units]


async def started(model: Model, batcher: Batcher, first: list[int]) -> asyncio.Task:
    """The first call, running (and held) in the model."""
    task = asyncio.ensure_future(batcher(first))
    while not model.batches:
        await asyncio.sleep(0.001)
    return task


def test_a_lone_call_runs_at_once_and_alone():
    async def main():
        model = Model()
        model.release.set()
        batcher = Batcher(model, max_units=32)
        assert list(await asyncio.wait_for(batcher([1, 2]), 5)) == [10, 20]
        assert list(await asyncio.wait_for(batcher([3]), 5)) == [30]
        return model.batches

    assert asyncio.run(main()) == [[1, 2], [3]]


def test_calls_that_arrive_during_a_batch_run_together_next_each_with_its_own_results():
    async def main():
        model = Model()
        batcher = Batcher(model, max_units=32)
        first = await started(model, batcher, [0])
        waiting = [asyncio.ensure_future(batcher([i, i + 100])) for i in range(1, 6)]
        await asyncio.sleep(0.05)
        assert len(model.batches) == 1  # nothing runs beside the held batch
        model.release.set()
        return await asyncio.wait_for(asyncio.gather(first, *waiting), 5), model.batches

    results, batches = asyncio.run(main())
    assert [list(r) for r in results] == [[0]] + [[i * 10, (i + 100) * 10] for i in range(1, 6)]
    assert batches == [[0], [1, 101, 2, 102, 3, 103, 4, 104, 5, 105]]


def test_a_batch_holds_at_most_max_units_and_a_larger_call_runs_alone():
    async def main():
        model = Model()
        batcher = Batcher(model, max_units=4)
        first = await started(model, batcher, [0])
        waiting = [asyncio.ensure_future(batcher(units)) for units in ([1, 2], [3, 4], [5, 6], [7] * 6, [8])]
        await asyncio.sleep(0.01)
        model.release.set()
        await asyncio.wait_for(asyncio.gather(first, *waiting), 5)
        return model.batches

    assert asyncio.run(main()) == [[0], [1, 2, 3, 4], [5, 6], [7] * 6, [8]]


def test_an_error_reaches_every_caller_of_its_batch_and_the_next_batch_still_runs():
    async def main():
        model = Model(fail_on=2)
        batcher = Batcher(model, max_units=2)
        first = await started(model, batcher, [0])
        same_batch = [asyncio.ensure_future(batcher([u])) for u in (1, 2)]
        later = asyncio.ensure_future(batcher([3]))
        await asyncio.sleep(0.01)
        model.release.set()
        outcomes = await asyncio.wait_for(asyncio.gather(first, *same_batch, later, return_exceptions=True), 5)
        return outcomes, model.batches

    outcomes, batches = asyncio.run(main())
    assert batches == [[0], [1, 2], [3]]
    assert [list(o) for o in (outcomes[0], outcomes[3])] == [[0], [30]]
    for error in outcomes[1:3]:
        assert isinstance(error, ValueError) and "cannot score 2" in str(error)


def test_a_cancelled_call_is_not_computed():
    async def main():
        model = Model()
        batcher = Batcher(model, max_units=32)
        first = await started(model, batcher, [0])
        gone = asyncio.ensure_future(batcher([1]))
        kept = asyncio.ensure_future(batcher([2]))
        await asyncio.sleep(0.01)
        gone.cancel()  # the client left
        model.release.set()
        await asyncio.wait_for(asyncio.gather(first, kept), 5)
        return model.batches, gone.cancelled()

    assert asyncio.run(main()) == ([[0], [2]], True)


def test_a_model_giving_the_wrong_number_of_results_is_an_error():
    async def main():
        batcher = Batcher(lambda units: units[:-1], max_units=8)
        await asyncio.wait_for(batcher([1, 2]), 5)

    with pytest.raises(RuntimeError, match="batch of 2 gave 1 results"):
        asyncio.run(main())
