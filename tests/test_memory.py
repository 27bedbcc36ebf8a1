"""The server's processes give freed pixels back to the system: four threads each decoding five
times 100 MB of images, with a small array kept between them, leave nothing behind."""

import subprocess
import sys

from conftest import ROOT

SCRIPT = """
import sys, threading
import numpy as np, psutil
from serving.memory import return_freed_pixels
if sys.argv[1] == "fixed":
    assert return_freed_pixels()
me = psutil.Process()
base = me.memory_info().rss
kept = []
def work():
    for _ in range(5):
        images = [np.ones(20_000_000, np.uint8) for _ in range(5)]
        kept.append(np.ones(1000, np.uint8))  # a small survivor above the freed blocks
        del images
threads = [threading.Thread(target=work) for _ in range(4)]
[t.start() for t in threads]
[t.join() for t in threads]
print(round((me.memory_info().rss - base) / 1e6))
"""


def retained_mb(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", SCRIPT, mode], cwd=ROOT, capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


def test_freed_pixels_go_back_to_the_system():
    fixed, default = retained_mb("fixed"), retained_mb("default")
    assert fixed < 50, fixed
    assert default - fixed > 100, (default, fixed)  # glibc's own threshold keeps them: the fix is what frees them
