"""The web page at `/ui`: plain HTML, CSS and JavaScript from serving/static (no build step, nothing
from another host), and `about.json`, the facts the page shows about the model that answers."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from deepfake_detect.models import zoo

STATIC = Path(__file__).resolve().parent / "static"
# The page may talk only to its own origin: a verdict page must not leak uploads or load code.
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
        "media-src 'self' blob:; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def page_app(about: dict) -> Starlette:
    """The page's Starlette app, to be mounted at /ui by the API service."""

    async def about_json(request: Request) -> JSONResponse:
        return JSONResponse(about)

    async def secure_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.update(HEADERS)
        return response

    return Starlette(
        routes=[
            Route("/about.json", about_json),
            Mount("/", StaticFiles(directory=STATIC, html=True)),
        ],
        middleware=[Middleware(BaseHTTPMiddleware, dispatch=secure_headers)],
    )


def about(champion, meta, runtime: str, spec) -> dict:
    """What the page needs to know: the model (its card from the package stage), its thresholds,
    and what the service accepts, so that the page can say it before anything is sent."""
    return {
        "model": meta.name,
        "bentoml_tag": champion.tag,
        "runtime": runtime,  # keras, onnx or onnx-int8: the thresholds are this variant's
        "runtime_test": meta.variants.get(runtime, {}).get("test"),  # its own test figures, if not Keras's
        "mlflow_version": champion.version,
        # As the answers round them, so that the page never shows two values of one threshold.
        "threshold": round(meta.threshold, 6),
        "high_threshold": round(meta.high_threshold, 6),
        "card": champion.card,
        # The service draws Grad-CAM++ for networks with gradients, occlusion sensitivity otherwise.
        "explanation": "Grad-CAM++" if zoo.family(meta.name).gradients else "occlusion sensitivity",
        "limits": {
            "image_formats": list(spec.limits.formats),
            "image_max_bytes": spec.limits.max_bytes,
            "video_containers": list(spec.video.containers),
            "video_max_bytes": spec.video.max_bytes,
            "video_max_seconds": spec.video.max_seconds,
            "video_max_frames": spec.video.max_frames,
            "video_sample_fps": spec.video.sample_fps,
        },
    }
