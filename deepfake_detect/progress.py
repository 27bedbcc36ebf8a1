"""Progress for long steps that reads in a terminal and in a log alike. A bar redraws itself with
carriage returns: on a terminal that is one line, in `dvc repro > log` or CI it is one line of tens of
thousands of characters. Off a terminal, progress is a plain line at every tenth of the way."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field


def on_terminal() -> bool:
    return sys.stderr.isatty()


def keras_verbosity(setting) -> int:
    """Keras's `verbose`: `auto` is its bar (1) on a terminal, one line per epoch (2) in a log."""
    if setting == "auto":
        return 1 if sys.stdout.isatty() else 2
    return int(setting)


def bar(iterable: Iterable | None = None, *, desc: str, unit: str, total: int | None = None, scale: bool = False):
    """tqdm on a terminal, else `Lines`; iterate it, or use it as a context and `update(n)`.
    `scale` shows a count of bytes as kB, MB and GB."""
    if total is None and iterable is not None and hasattr(iterable, "__len__"):
        total = len(iterable)
    if on_terminal():
        from tqdm import tqdm

        return tqdm(iterable, total=total, desc=desc, unit=unit, unit_scale=scale)
    return Lines(iterable, total, desc, unit, scale)


@dataclass
class Lines:
    """Progress as lines: `desc: 300/3000 img (10%), 2 s` at every tenth of `total`, and at the end."""

    iterable: Iterable | None
    total: int | None
    desc: str
    unit: str
    scale: bool = False
    done: int = 0
    _started: float = field(default_factory=time.monotonic)
    _tenths_said: int = 0
    _closed: bool = False

    def __iter__(self) -> Iterator:
        for item in self.iterable or ():
            yield item
            self.update(1)
        self.close()

    def __enter__(self) -> Lines:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def update(self, n: int = 1) -> None:
        self.done += n
        tenths = min(10, self.done * 10 // self.total) if self.total else 0
        if tenths > self._tenths_said:
            self._tenths_said = tenths
            self._say()

    def close(self) -> None:
        if not self._closed and self._tenths_said < 10:
            self._say()
        self._closed = True

    def _say(self) -> None:
        of = f"/{self._amount(self.total)}" if self.total else ""
        count = f"{self._amount(self.done)}{of}" if self.scale else f"{self.done}{of} {self.unit}"
        share = f" ({100 * self.done // self.total}%)" if self.total else ""
        print(f"{self.desc}: {count}{share}, {time.monotonic() - self._started:.0f} s", file=sys.stderr, flush=True)

    def _amount(self, n: int) -> str:
        if not self.scale:
            return str(n)
        for size, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
            if n >= size:
                return f"{n / size:.1f} {prefix}{self.unit}"
        return f"{n} {self.unit}"
