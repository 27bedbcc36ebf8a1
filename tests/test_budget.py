"""The memory an API worker's requests fill with pixels: reserved in the order requests asked, waited for
while others hold them, refused with 413 when they could never fit and 503 when the wait is over."""

import threading
import time
from http import HTTPStatus

import pytest

from deepfake_detect.inference.uploads import Refusal
from serving.budget import MB, DecodeBudget


def reserving(budget: DecodeBudget, megabytes: int, got: list) -> threading.Thread:
    def take():
        budget.reserve(megabytes * MB)
        got.append(megabytes)

    thread = threading.Thread(target=take, daemon=True)
    thread.start()
    return thread


def test_requests_wait_for_their_pixels_in_the_order_they_asked():
    budget, got = DecodeBudget(100, wait_s=10), []
    budget.reserve(80 * MB)
    big = reserving(budget, 50, got)
    time.sleep(0.1)
    small = reserving(budget, 10, got)  # 10 are free, but the request for 50 came first
    time.sleep(0.1)
    assert got == [] and budget.free == 20 * MB
    budget.release(80 * MB)
    big.join(5), small.join(5)
    assert got == [50, 10] and budget.free == 40 * MB
    budget.release(50 * MB), budget.release(10 * MB)
    assert budget.free == 100 * MB


def test_more_than_the_whole_budget_is_a_413_at_once():
    budget = DecodeBudget(100, wait_s=10)
    with pytest.raises(Refusal) as refused:
        budget.reserve(101 * MB)
    assert refused.value.status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert "serving.queue.max_decoded_mb" in refused.value.message and budget.free == 100 * MB


def test_a_wait_past_its_time_is_a_503_and_leaves_the_budget_as_it_was():
    budget = DecodeBudget(100, wait_s=0.2)
    budget.reserve(90 * MB)
    start = time.monotonic()
    with pytest.raises(Refusal) as refused:
        budget.reserve(20 * MB)
    assert refused.value.status == HTTPStatus.SERVICE_UNAVAILABLE and time.monotonic() - start >= 0.2
    assert budget.free == 10 * MB
    budget.reserve(10 * MB)  # the one that gave up is no longer ahead in the queue
    assert budget.free == 0
