"""The memory one API worker's requests may fill with decoded pixels (serving.queue.max_decoded_mb).

The queue bounds how many requests a worker holds, but not what they cost: a 150-byte PNG whose
header says 6,000 x 6,000 (under serving.limits.max_pixels) took 500 MB to judge, and the soak's
16 clients sent enough of them to take the API worker from 1.6 GB to 8 GB. A request reserves what
its pixels will cost, read from the headers, before it decodes any, in the order requests asked;
it waits while others hold the budget, and gives it back when it has its answer.
"""

from __future__ import annotations

import collections
import threading
from http import HTTPStatus

from deepfake_detect.inference.uploads import Refusal

MB = 1_000_000


class DecodeBudget:
    def __init__(self, megabytes: int, wait_s: float):
        self.total = megabytes * MB
        self.wait_s = wait_s
        self._free = self.total
        self._queue: collections.deque[object] = collections.deque()
        self._changed = threading.Condition()

    @property
    def free(self) -> int:
        return self._free

    def reserve(self, size: int) -> None:
        """Takes `size` bytes, once every earlier request has had its share and they are free: 413
        if they could never fit, 503 after wait_s. The caller releases them when it has its answer."""
        if size > self.total:
            raise Refusal(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"the upload needs about {size / MB:,.0f} MB to decode (a video: all its sampled frames); the limit "
                f"is serving.queue.max_decoded_mb, {self.total / MB:,.0f} MB: send fewer or smaller images, or a "
                "shorter clip",
            )
        ticket = object()
        with self._changed:
            self._queue.append(ticket)
            try:
                if not self._changed.wait_for(lambda: self._queue[0] is ticket and self._free >= size, self.wait_s):
                    raise Refusal(
                        HTTPStatus.SERVICE_UNAVAILABLE,
                        "the service holds all the decoded pixels serving.queue.max_decoded_mb allows: retry shortly",
                    )
                self._free -= size
            finally:
                self._queue.remove(ticket)
                self._changed.notify_all()

    def release(self, size: int) -> None:
        with self._changed:
            self._free += size
            self._changed.notify_all()
