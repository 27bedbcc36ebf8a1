"""The web page at /ui, driven in a real headless Chromium (Debian's, which `make test` installs)
against the shared `bentoml serve` of the pipeline's champion: what a person sees and clicks.

The screenshots go to $SCREENSHOTS (`make screenshots` sets docs/screenshots) or a temporary folder."""

import math
import os
import re
import time
from pathlib import Path

import numpy as np
import pytest
import requests

from conftest import PARAMS, ROOT, jpeg_bytes, random_pixels, two_astronauts
from deepfake_detect.inference import analysis
from deepfake_detect.inference.video import VideoSpec, sample
from footage import champion_in_process, clip_bytes, fake_in_the_middle
from servers import multipart

pytestmark = pytest.mark.xdist_group("pipeline")

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# As root, in a container, with no network: no sandbox, and none of Chromium's background calls home.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
WORDS = {"real": "Real", "suspicious": "Suspicious", "fake": "Fake"}


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"no browser at {CHROMIUM}: `make browser` installs Debian's chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ["SCREENSHOTS"]) if os.environ.get("SCREENSHOTS") else tmp_path_factory.mktemp("shots")
    folder = folder if folder.is_absolute() else ROOT / folder
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Visit:
    """One tab on /ui, recording every request it makes and every error it logs."""

    def __init__(self, browser, url: str, viewport: dict):
        self.page = browser.new_page(viewport=viewport)
        self.requests, self.errors = [], []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        # A refused upload logs "Failed to load resource" by design; anything else is a fault.
        self.page.on(
            "console",
            lambda m: m.type == "error" and "Failed to load resource" not in m.text and self.errors.append(m.text),
        )
        self.page.goto(f"{url}/ui/")
        self.page.get_by_text("Test ROC-AUC").wait_for()

    def upload(self, name: str, data: bytes, mime: str):
        self.page.set_input_files("#file", files=[{"name": name, "mimeType": mime, "buffer": data}])

    def result(self):
        self.page.locator("#result").wait_for(state="visible", timeout=120_000)
        return self.page

    def close(self, url: str):
        assert all(u.startswith((url, "blob:", "data:")) for u in self.requests), self.requests
        assert not self.errors, self.errors
        self.page.close()


def test_a_photo_shows_its_verdict_faces_and_heat_map(server, browser, shots, champion):
    client, url, _ = server
    scene, _ = two_astronauts()
    data = jpeg_bytes(scene, 95)
    expected = requests.post(f"{url}/predict", timeout=120, **multipart("image", data)).json()
    visit = Visit(browser, url, DESKTOP)
    page = visit.page
    about = page.locator("#about").inner_text()
    assert champion["model"] in about and champion["bentoml_tag"] in about and "generated stand-in" in about
    served = "quantized to INT8" if champion["model"] == "cnn" else "Keras"  # serving.runtime auto
    assert "scored by" in about.lower() and served in about, about
    assert page.locator("#warning").is_visible() and "mean nothing" in page.locator("#warning").inner_text()
    assert "JPEG" in page.locator("#limits").inner_text()

    # By keyboard: the first stop is the link to the API reference, the second the file picker.
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "file"
    visit.upload("two astronauts.jpg", data, "image/jpeg")
    visit.result()
    assert page.locator("#faces-count").inner_text() == "2 faces found"
    verdict = page.locator("#verdict-word").inner_text()
    assert verdict == _mark(expected["verdict"])
    assert f"{expected['p_fake']:.2f}" in page.locator("#verdict-detail").inner_text()
    assert page.locator("#faces-table tbody tr").count() == 2 and page.locator("#boxes .box").count() == 2
    tags = page.locator("#boxes .tag").all_inner_texts()
    assert tags == [f"{i + 1} · {WORDS[f['verdict']]} {f['p_fake']:.2f}" for i, f in enumerate(expected["faces"])]
    # The boxes sit where the service found the faces, at the picture's displayed scale.
    shown = page.locator("#picture").bounding_box()
    first = page.locator("#boxes .box").first.bounding_box()
    x, y, w, _ = expected["faces"][0]["box"]
    scale = shown["width"] / expected["image"]["width"]
    assert first["x"] - shown["x"] == pytest.approx(x * scale, abs=2)
    assert first["y"] - shown["y"] == pytest.approx(y * scale, abs=2)
    assert first["width"] == pytest.approx(w * scale, abs=2)
    page.screenshot(path=shots / "page-image-desktop.png", full_page=True)

    plain_src = page.locator("#picture").get_attribute("src")
    page.get_by_label("Heat map: where the evidence lies").focus()
    page.keyboard.press("Space")
    until(page, "document.getElementById('boxes').hidden")
    assert page.locator("#picture").get_attribute("src") != plain_src
    width = page.evaluate("document.getElementById('picture').naturalWidth")
    assert width == scene.shape[1] and "Heat map" in page.locator("#caption").inner_text()
    page.screenshot(path=shots / "page-image-heat-map.png", full_page=True)
    page.get_by_label("Heat map: where the evidence lies").uncheck()
    until(page, "!document.getElementById('boxes').hidden")
    visit.close(url)


def test_at_phone_width_nothing_is_wider_than_the_screen(server, browser, shots):
    _, url, _ = server
    scene, _ = two_astronauts()
    visit = Visit(browser, url, PHONE)
    visit.upload("scene.jpg", jpeg_bytes(scene, 95), "image/jpeg")
    page = visit.result()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.locator("#picture").bounding_box()["width"] <= PHONE["width"]
    # The about panel comes after the verdict, not beside it.
    assert page.locator(".about").bounding_box()["y"] > page.locator("#verdict").bounding_box()["y"]
    page.screenshot(path=shots / "page-image-phone.png", full_page=True)
    visit.close(url)


def test_a_clip_shows_its_timeline_and_a_segment_seeks_the_player(
    server, browser, shots, pipeline_repo, champion, tmp_path
):
    _, url, _ = server
    detector = champion_in_process(pipeline_repo, champion["model"])
    # VP8 in WebM, which Chromium plays (it does not play OpenCV's MPEG-4 part 2).
    data = clip_bytes(tmp_path, fake_in_the_middle(pipeline_repo, detector), fourcc="VP80", suffix=".webm")
    decoded = sample(data, VideoSpec.from_params(PARAMS["serving"]["video"]))
    flagged = detector.predict_proba(np.stack(decoded.frames)) >= detector.meta.threshold
    assert flagged.any() and not flagged.all(), "the clip needs a fake stretch between real ones"
    expected = requests.post(f"{url}/predict_video", timeout=300, **multipart("video", data, "c.webm", "video/webm"))
    expected = expected.json()
    assert expected["segments"]

    visit = Visit(browser, url, DESKTOP)
    # What the progress indicator says while the clip is judged, recorded in the page itself (the
    # request may end before a poll from here would see it).
    visit.page.evaluate(
        """() => {
            window.busySaid = [];
            const busy = document.getElementById("busy");
            new MutationObserver(() => busy.classList.contains("on") && window.busySaid.push(busy.textContent))
                .observe(busy, { attributes: true, subtree: true, childList: true, characterData: true });
        }"""
    )
    visit.upload("clip.webm", data, "video/webm")
    page = visit.result()
    assert any("Judging the clip" in said for said in page.evaluate("window.busySaid"))
    assert page.locator("#busy.on").count() == 0
    assert page.locator("#verdict-word").inner_text().endswith(WORDS[expected["verdict"]])
    segments = page.locator("#segments button").all_inner_texts()
    assert segments == [f"{_span(s['start'], s['end'])} · mean P(fake) {s['p_fake']:.2f}" for s in expected["segments"]]
    assert page.locator("#chart circle.dot").count() == expected["video"]["frames_sampled"]
    assert page.locator("#chart line.high").count() == 1 and page.locator("#chart line.low").count() == 1
    rows = page.locator("#tracks li").all_inner_texts()
    tracks = expected["tracks"]
    assert [r.split("\n")[0] for r in rows] == [f"Face {t['id']}: {_mark(t['verdict'])}" for t in tracks] or (
        not tracks and rows == ["No face was found in any sampled frame."]
    )
    until(page, "document.getElementById('player').readyState >= 1")
    page.locator("#segments button").first.click()
    until(page, "!document.getElementById('player').seeking")
    assert page.evaluate("document.getElementById('player').currentTime") == pytest.approx(
        expected["segments"][0]["start"], abs=0.05
    )
    assert page.evaluate("document.activeElement.id") == "player"
    page.screenshot(path=shots / "page-video.png", full_page=True)
    visit.close(url)


@pytest.mark.parametrize("how", ["drop", "paste"])
def test_a_photo_dropped_or_pasted_is_judged_as_one_chosen(server, browser, how):
    _, url, _ = server
    from skimage import data as samples

    photo = jpeg_bytes(samples.astronaut(), 90)
    expected = requests.post(f"{url}/predict", timeout=120, **multipart("image", photo)).json()
    visit = Visit(browser, url, DESKTOP)
    visit.page.evaluate(
        """([bytes, how]) => {
            const items = new DataTransfer();
            items.items.add(new File([new Uint8Array(bytes)], "photo.jpg", { type: "image/jpeg" }));
            const event = how === "drop"
                ? new DragEvent("drop", { dataTransfer: items, bubbles: true, cancelable: true })
                : new ClipboardEvent("paste", { clipboardData: items, bubbles: true, cancelable: true });
            (how === "drop" ? document.getElementById("drop") : document).dispatchEvent(event);
        }""",
        [list(photo), how],
    )
    page = visit.result()
    assert page.locator("#verdict-word").inner_text() == _mark(expected["verdict"])
    assert page.locator("#boxes .box").count() == len(expected["faces"]) == 1
    visit.close(url)


@pytest.mark.parametrize(
    "name, data, mime, words",
    [
        ("notes.jpg", b"these are my notes, not a photo", "image/jpeg", "415"),
        ("cut.jpg", jpeg_bytes(random_pixels(3, 256))[:700], "image/jpeg", "422"),
        ("clip.webm", b"\x1a\x45\xdf\xa3 not really a webm", "video/webm", "422"),
        ("huge.jpg", b"\xff\xd8\xff\xe0" + bytes(PARAMS["serving"]["limits"]["max_bytes"]), "image/jpeg", "413"),
    ],
    ids=["not-an-image", "truncated-jpeg", "broken-video", "over-the-byte-limit"],
)
def test_a_bad_file_gets_the_services_own_message(server, browser, name, data, mime, words):
    _, url, _ = server
    route, field = ("predict_video", "video") if mime.startswith("video") else ("predict", "image")
    said = requests.post(f"{url}/{route}", timeout=120, **multipart(field, data, name, mime))
    assert str(said.status_code) == words
    visit = Visit(browser, url, DESKTOP)
    visit.upload(name, data, mime)
    error = visit.page.locator("#error")
    error.wait_for(state="visible", timeout=60_000)
    # The same message, but for the request's size (a browser frames the form its own way).
    numbers = re.compile(r"\d[\d,]*")
    assert numbers.sub("N", said.json()["error"]) in numbers.sub("N", error.inner_text())
    assert f"({words} " in error.inner_text()
    assert visit.page.locator("#result").is_hidden()
    visit.close(url)


def test_no_face_says_the_whole_image_was_scored(server, browser):
    _, url, _ = server
    visit = Visit(browser, url, DESKTOP)
    visit.upload("noise.png", jpeg_bytes(random_pixels(5, 200)), "image/jpeg")
    page = visit.result()
    assert page.locator("#faces-count").inner_text() == "No face found"
    assert analysis.NO_FACE[1:] in page.locator("#warnings").inner_text()
    visit.close(url)


def until(page, script: str, timeout_s: float = 30) -> None:
    """Polls a JavaScript expression from outside: the page's CSP forbids the eval that
    Playwright's wait_for_function relies on, and the test keeps that CSP on."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(script):
        assert time.monotonic() < deadline, f"not true after {timeout_s} s: {script}"
        time.sleep(0.1)


def _mark(verdict: str) -> str:
    return {"real": "✓", "suspicious": "!", "fake": "✕"}[verdict] + " " + WORDS[verdict]


def _span(start: float, end: float) -> str:
    """mm:ss–mm:ss as the page writes it, with tenths when both ends would read the same."""

    def clock(t: float, tenths: bool = False) -> str:
        whole = math.floor(t) if tenths else math.floor(t + 0.5)
        return f"{whole // 60:02d}:{whole % 60:02d}" + (f".{math.floor((t - whole) * 10)}" if tenths else "")

    tenths = clock(start) == clock(end)
    return f"{clock(start, tenths)}–{clock(end, tenths)}"
