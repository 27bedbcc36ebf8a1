"""`bentoml serve`: the repository's champion behind `/predict`, `/predict_batch`, `/explain` and
`/predict_video`, and the web page at `/ui` that calls them.

Two services, because BentoML batches only calls that cross a service boundary: the API service
(`DeepfakeDetector`) reads uploads and aligns faces; the model service (`Models`) runs the two
networks, finding the faces in the images of concurrent requests together and scoring their
crops together, and draws heat maps. Both run the package's
one inference path (`deepfake_detect.inference.analysis`), as the CLI and the evaluate stage do.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Annotated

import bentoml
import numpy as np
from bentoml.exceptions import BentoMLException
from bentoml.validators import ContentType
from starlette.responses import Response

from deepfake_detect.config import load_params
from deepfake_detect.inference import analysis, champion, clips, drawing, faces, heatmaps
from deepfake_detect.inference import detector as det
from deepfake_detect.inference import video as video_input
from deepfake_detect.inference.uploads import Refusal, decode_upload, image_pixels
from serving.batcher import Batcher
from serving.budget import DecodeBudget
from serving.gate import Admission, Route, UploadGate
from serving.memory import return_freed_pixels
from serving.page import about, page_app
from serving.schemas import ErrorAnswer, Prediction, VideoPrediction
from serving.settings import ServingSpec

ROOT = Path(__file__).resolve().parent.parent
return_freed_pixels()  # in every process of the server: each imports this module
# Another params file, for benchmarks that compare settings (e.g. batching off): params.yaml otherwise.
PARAMS = load_params(Path(os.environ.get("DEEPFAKE_PARAMS", ROOT / "params.yaml")))
SPEC = ServingSpec.from_params(PARAMS["serving"])

try:
    CHAMPION = champion.resolve(ROOT, PARAMS)
    # The model service scores with this variant; the API service applies its thresholds.
    RUNTIME, SERVED_META = det.served(CHAMPION.path, SPEC.runtime)
except (champion.NoChampion, FileNotFoundError) as err:
    # Here, before any worker starts: BentoML respawns a worker whose __init__ fails, forever.
    print(f"bentoml serve: {err}", file=sys.stderr, flush=True)
    sys.exit(2)


# What a pixel costs the API worker, measured: an image's decoding, face-finding copies and
# alignment peaked at 500 MB for 36 megapixels; a clip's sampled frames are held as RGB.
IMAGE_BYTES, FRAME_BYTES = 14, 3


class RefusedUpload(BentoMLException):
    """A Refusal as BentoML answers it: the status and the message, logged in one line."""

    def __init__(self, refusal: Refusal):
        super().__init__(refusal.message, error_code=refusal.status)


class _OneLineRefusals(logging.Filter):
    """BentoML logs a traceback for every error an API raises; a refused upload is not a fault."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, RefusedUpload):
            record.msg, record.args = "refused %s [%s]: %d %s", (*record.args, int(exc.error_code), str(exc))
            record.exc_info = record.exc_text = None
        return True


logging.getLogger("bentoml._internal.server.http_app").addFilter(_OneLineRefusals())
log = logging.getLogger("bentoml.deepfake_detector")


# BentoML's client of a dependency replaces its HTTP session every runner_connection.max_requests
# (100) calls or max_age (300 s) and closes the old one with its calls still in flight: under load
# every hundredth call cut off all the calls running beside it ("Server disconnected"), and each
# was computed twice. One session for the server's life.
NEVER_REFRESHED = {"max_requests": 2**62, "max_age": 1e12}


@bentoml.service(
    name="models",
    workers=SPEC.workers.model,
    traffic={"timeout": SPEC.timeout_s},
    runner_connection=NEVER_REFRESHED,
)
class Models:
    """The two networks, where requests meet: the face detector and the champion."""

    model_ref = bentoml.models.BentoModel(CHAMPION.tag)

    def __init__(self) -> None:
        self.detector = det.load(Path(self.model_ref.path), SPEC.runtime)
        self.detect_faces = faces.detector(SPEC.faces)
        side = self.detector.meta.image_size
        blank = np.zeros((1, side, side, 3), dtype=np.uint8)
        self.detector.predict_proba(blank)  # the first calls build the graphs
        self.detect_faces(list(blank))
        # Each network batches the calls of concurrent requests (serving/batcher.py).
        self._detect = Batcher(self._detect_together, SPEC.batching.max_batch_size)
        self._score = Batcher(self._score_together, SPEC.batching.max_batch_size)
        # One request's maps at a time: occlusion maps cost seconds a face, and threads sharing the
        # two cores made every request of a burst late together (504s in the soak).
        self._heat_maps = Batcher(self._heat_maps_together, 1)
        print(f"serving {CHAMPION.summary()}, scored by {self.detector.runtime}", file=sys.stderr, flush=True)

    @bentoml.api
    async def detect(self, images: list[np.ndarray]) -> list[list[dict]]:
        """The faces in each image (copies at most serving.faces.detect_max_side large)."""
        return list(await self._detect(list(images)))

    @bentoml.api
    async def score(self, crops: np.ndarray) -> np.ndarray:
        """Calibrated P(fake) of (N, size, size, 3) uint8 face crops."""
        return np.asarray(await self._score(list(np.asarray(crops, dtype=np.uint8))), dtype=np.float64)

    @bentoml.api
    async def heat_maps(self, crops: np.ndarray) -> np.ndarray:
        """(N, size, size) maps in [0, 1]: Grad-CAM++ or occlusion sensitivity."""
        return np.asarray(await self._heat_maps(list(np.asarray(crops, dtype=np.uint8))))

    def _detect_together(self, images: list[np.ndarray]) -> list[list[dict]]:
        return [[faces.to_dict(f) for f in found] for found in self.detect_faces(images)]

    def _score_together(self, crops: list[np.ndarray]) -> np.ndarray:
        return self.detector.predict_proba(np.stack(crops)).astype(np.float64)

    def _heat_maps_together(self, crops: list[np.ndarray]) -> np.ndarray:
        return heatmaps.heat_maps(self.detector, np.stack(crops))


@bentoml.asgi_app(page_app(about(CHAMPION, SERVED_META, RUNTIME, SPEC)), path="/ui")
@bentoml.service(
    name="deepfake_detector", workers=SPEC.workers.api, threads=SPEC.threads, traffic={"timeout": SPEC.timeout_s}
)
class DeepfakeDetector:
    models = bentoml.depends(Models)

    def __init__(self) -> None:
        self.meta = SERVED_META
        self.find_faces = faces.face_finder(SPEC.faces, detect=self._detect)
        # A request that cannot get its share within half its time is a 503, not a 504 later.
        self.budget = DecodeBudget(SPEC.queue.max_decoded_mb, wait_s=SPEC.timeout_s / 2)
        self.ready = False

    def __is_ready__(self) -> bool:
        """Ready once a whole prediction has gone through: faces, the model service, the verdict."""
        if not self.ready:
            side = self.meta.image_size
            try:
                self._analyse([np.full((side, side, 3), 128, dtype=np.uint8)])
            except Exception:  # the model service is still starting: not ready yet
                return False
            self.ready = True
        return self.ready

    @bentoml.api
    def predict(self, image: Path) -> Prediction:
        """Upload a photo (form field `image`: JPEG, PNG, WebP, BMP, TIFF or GIF). Each face is found,
        aligned as the training faces were and judged; with no face, the whole image is."""
        data = Path(image).read_bytes()
        with self._reserved([data]):
            verdicts, _ = self._analyse([self._decode(data)])
        return self._answer(verdicts[0])

    @bentoml.api
    def predict_batch(self, images: list[Path]) -> list[Prediction]:
        """Several photos (repeat the form field `images`); one answer per file, in order."""
        files = [Path(p).read_bytes() for p in images]
        with self._reserved(files):
            verdicts, _ = self._analyse([self._decode(data) for data in files])
        return [self._answer(v) for v in verdicts]

    @bentoml.api
    def explain(self, image: Path) -> Annotated[Path, ContentType("image/png")]:
        """The upload as a PNG with each face's box and verdict, and the heat map (where the evidence
        lies) of the serving.explain_max_faces largest faces."""
        data = Path(image).read_bytes()
        with self._reserved([data]):
            pixels = self._decode(data)
            verdicts, crops = self._analyse([pixels])
            explained = crops[0][: SPEC.explain_max_faces]
            heats = np.asarray(_retried(self.models.to_sync.heat_maps, np.stack([c.pixels for c in explained])))
            png = drawing.explanation_png(pixels, verdicts[0], explained, heats)
        return Response(png, media_type="image/png")

    @bentoml.api
    def predict_video(self, video: Path) -> VideoPrediction:
        """Upload a clip (form field `video`: mp4/mov, webm, mkv or avi). Frames are sampled at
        serving.video.sample_fps, each judged as a photo is, the faces followed into tracks."""
        with ExitStack() as held:
            try:
                # The clip's frames are reserved from the stream's header, before any is decoded.
                def reserve(pixels: int) -> None:
                    held.enter_context(self._hold(pixels * FRAME_BYTES))

                clip = video_input.sample(Path(video).read_bytes(), SPEC.video, reserve=reserve)
            except Refusal as refusal:
                raise RefusedUpload(refusal) from None
            judged = clips.judge_clip(clip, self.find_faces, self._score, self.meta, SPEC.video)
        return VideoPrediction(**judged.to_dict(), **self._model_fields())

    def _decode(self, data: bytes) -> np.ndarray:
        try:
            return decode_upload(data, SPEC.limits)
        except Refusal as refusal:
            raise RefusedUpload(refusal) from None

    @contextmanager
    def _hold(self, size: int) -> Iterator[None]:
        try:
            self.budget.reserve(size)
        except Refusal as refusal:
            raise RefusedUpload(refusal) from None
        try:
            yield
        finally:
            self.budget.release(size)

    def _reserved(self, files: list[bytes]):
        """The budget for these images, their sizes read from their headers (a bad one refused here)."""
        try:
            pixels = sum(image_pixels(data, SPEC.limits) for data in files)
        except Refusal as refusal:
            raise RefusedUpload(refusal) from None
        return self._hold(pixels * IMAGE_BYTES)

    # The model service's detect and score are coroutines (each awaits its batch); these run in a thread.
    def _detect(self, copies: list[np.ndarray]) -> list[list[faces.Face]]:
        return [[faces.from_dict(f) for f in found] for found in _retried(self.models.to_sync.detect, copies)]

    def _score(self, crops: np.ndarray) -> np.ndarray:
        return np.asarray(_retried(self.models.to_sync.score, crops))

    def _analyse(self, images: list[np.ndarray]):
        return analysis.analyse(images, self.find_faces, self._score, self.meta)

    def _model_fields(self) -> dict:
        return {
            "threshold": round(self.meta.threshold, 6),
            "high_threshold": round(self.meta.high_threshold, 6),
            "model": self.meta.name,
            "model_version": f"{CHAMPION.tag} (MLflow v{CHAMPION.version or '-'})",
        }

    def _answer(self, verdict: analysis.ImageVerdict) -> Prediction:
        return Prediction(
            **{k: v for k, v in verdict.to_dict().items() if k not in ("width", "height")},
            **self._model_fields(),
            image={"width": verdict.width, "height": verdict.height},
        )


def _retried(method, value, attempts: int = 3):
    """A call to the model service, made again when the connection it reused was being closed
    (under load aiohttp meets the other side's keep-alive timeout; the calls are idempotent)."""
    from aiohttp import ClientConnectionError

    for attempt in range(attempts):
        try:
            return method(value)
        except ClientConnectionError as err:
            if attempt == attempts - 1:
                raise
            log.warning("the model service's %s: %s; calling again", method.__name__, err)
    raise AssertionError("unreachable")


DeepfakeDetector.add_asgi_middleware(
    UploadGate,
    routes={
        "/predict": Route("image", 1, SPEC.limits.max_bytes),
        "/explain": Route("image", 1, SPEC.limits.max_bytes),
        "/predict_batch": Route("images", SPEC.limits.max_files, SPEC.limits.max_bytes),
        "/predict_video": Route("video", 1, SPEC.video.max_bytes),
    },
    admission=Admission(SPEC.queue.max_requests, SPEC.queue.retry_after_s, SPEC.upload_timeout_s),
    error_schema=ErrorAnswer.model_json_schema(),
)
