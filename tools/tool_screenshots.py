"""Screenshots of the two pages the README sends people to after `make repro`, taken in headless
Chromium with the network cut off (only this machine answers), for docs/screenshots/:
- `mlflow ui` opened at the README's URL (the runs compared by their headline figures) and at the
  registry's model (the `champion` alias);
- the page `dvc plots show` writes.
Run from the repository after `make repro` (`make screenshots` does):
    python tools/tool_screenshots.py [--out docs/screenshots] [--chromium /usr/bin/chromium]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from deepfake_detect.evaluation.report import VIEW

ROOT = Path.cwd()
WIDTH = 1400  # a laptop's window: nothing on these pages may need more


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM", "/usr/bin/chromium"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
        try:
            dvc_plots(browser, args.out)
            mlflow_ui(browser, args.out)
        finally:
            browser.close()
    return 0


def offline_page(browser, height: int = 900):
    """A page that can reach this machine only: a request elsewhere fails, as it would offline."""
    page = browser.new_page(viewport={"width": WIDTH, "height": height})
    local = ("file:", "data:", "blob:", "http://127.0.0.1", "http://localhost")
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(local) else route.abort())
    return page


def dvc_plots(browser, out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["dvc", "plots", "show", "-o", tmp], check=True, capture_output=True)
        page = offline_page(browser, height=1250)
        page.goto((Path(tmp) / "index.html").as_uri())
        charts = until(page, "document.querySelectorAll('.vega-embed canvas, .vega-embed svg.marks').length", 5)
        page.screenshot(path=out / "dvc-plots.png")
        print(f"dvc plots show: {charts} charts drawn offline -> {out / 'dvc-plots.png'}")
        page.close()


def mlflow_ui(browser, out: Path) -> None:
    port = free_port()
    server = subprocess.Popen(
        ["mlflow", "ui", "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT
    )
    try:
        base = f"http://127.0.0.1:{port}"
        started = wait_for(base, 180)
        print(f"mlflow ui answered after {started:.0f} s")
        page = offline_page(browser)
        page.goto(f"{base}/#/experiments/1/runs?workflowType=machine_learning&viewStateShareKey={VIEW}")
        until(page, "document.body.innerText.includes('cnn · ') ? 1 : 0", 1, timeout=90)  # the runs are listed
        close_assistant(page)
        page.wait_for_timeout(1500)
        page.screenshot(path=out / "mlflow-runs.png")
        page.close()
        page = offline_page(browser)  # a new page: a change of the hash alone left the runs table shown
        page.goto(f"{base}/#/models/deepfake-detector")
        until(page, "document.body.innerText.includes('champion') ? 1 : 0", 1)
        close_assistant(page)
        page.wait_for_timeout(1500)
        page.screenshot(path=out / "mlflow-registry.png")
        print(f"mlflow ui -> {out / 'mlflow-runs.png'}, {out / 'mlflow-registry.png'}")
    finally:
        server.terminate()
        server.wait(30)


def close_assistant(page) -> None:
    """MLflow 3.17 opens its Assistant panel beside every page, over the table's columns; its
    close button is the one labelled Close in the page's right third."""
    for button in page.locator("button[aria-label='Close']").all():
        box = button.bounding_box()
        if box and box["x"] > WIDTH * 2 / 3:
            button.click()
            page.wait_for_timeout(500)
            return


def until(page, expression: str, at_least: int, timeout: float = 60) -> int:
    """Poll a JavaScript expression until it reaches `at_least` (no eval-based waits: pages may forbid them)."""
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(expression)
        if value >= at_least:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{expression} stayed at {value} on {page.url}")
        page.wait_for_timeout(250)


def wait_for(url: str, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return time.monotonic() - started
        except OSError:
            time.sleep(1)
    raise TimeoutError(f"{url} did not answer in {timeout:.0f} s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    sys.exit(main())
