"""The pixels one API worker decodes at once (serving.queue.max_pixels), shared by its requests.

The queue bounds how many requests a worker holds, but not what they cost: a 150-byte PNG whose
header says 6,000 x 6,000 (under serving.limits.max_pixels) took 500 MB to judge, and the soak's
16 clients sent enough of them to take the API worker from 1.6 GB to 8 GB. A request reserves its
pixels, read from the headers, before it decodes any, in the order requests asked; it waits while
others hold the budget, and gives them back when it has its answer.
"""

from __future__ import annotations

import collections
import threading
from http import HTTPStatus

from deepfake_detect.inference.uploads import Refusal


class PixelBudget:
    def __init__(self, pixels: int, wait_s: float):
        self.pixels = pixels
        self.wait_s = wait_s
        self._free = pixels
        self._queue: collections.deque[object] = collections.deque()
        self._changed = threading.Condition()

    @property
    def free(self) -> int:
        return self._free

    def reserve(self, pixels: int) -> None:
        """Takes the pixels, once every earlier request has had its own and they are free: 413 if
        they could never fit, 503 after wait_s. The caller releases them when it has its answer."""
        if pixels > self.pixels:
            raise Refusal(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"the upload needs {pixels:,} pixels decoded at once (a video: all its sampled frames); the limit "
                f"is serving.queue.max_pixels, {self.pixels:,}: send fewer or smaller images, or a shorter clip",
            )
        ticket = object()
        with self._changed:
            self._queue.append(ticket)
            try:
                if not self._changed.wait_for(lambda: self._queue[0] is ticket and self._free >= pixels, self.wait_s):
                    raise Refusal(
                        HTTPStatus.SERVICE_UNAVAILABLE,
                        "the service is decoding as many pixels as serving.queue.max_pixels allows: retry shortly",
                    )
                self._free -= pixels
            finally:
                self._queue.remove(ticket)
                self._changed.notify_all()

    def release(self, pixels: int) -> None:
        with self._changed:
            self._free += pixels
            self._changed.notify_all()
