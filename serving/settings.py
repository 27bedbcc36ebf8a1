"""params.yaml's `serving` section as a typed spec."""

from __future__ import annotations

from dataclasses import dataclass

from deepfake_detect.config import section
from deepfake_detect.inference.faces import FaceSpec
from deepfake_detect.inference.runtimes import RUNTIMES
from deepfake_detect.inference.uploads import UploadLimits
from deepfake_detect.inference.video import VideoSpec


@dataclass(frozen=True)
class Workers:
    api: int  # decoding and face detection
    model: int  # scoring: each holds one copy of the model


@dataclass(frozen=True)
class Batching:
    max_batch_size: int  # images (faces) one network takes at once; 1 turns batching off


@dataclass(frozen=True)
class Queue:
    max_requests: int  # upload requests one API worker holds at once; 503 with Retry-After past it
    retry_after_s: int
    max_decoded_mb: int  # memory its requests may fill with decoded pixels; they wait for their share


@dataclass(frozen=True)
class ServingSpec:
    faces: FaceSpec
    limits: UploadLimits
    workers: Workers
    batching: Batching
    threads: int  # requests the API service works on at once (each in a thread)
    timeout_s: int
    upload_timeout_s: float  # a request's whole body must arrive within this (408 past it)
    queue: Queue
    explain_max_faces: int  # faces /explain draws heat maps on (the largest)
    video: VideoSpec
    runtime: str  # the champion's network run by keras, onnx, onnx-int8 or auto (inference/runtimes.py)

    @classmethod
    def from_params(cls, serving: dict) -> ServingSpec:
        if serving.get("runtime") not in RUNTIMES:
            raise ValueError(f"serving.runtime must be one of {', '.join(RUNTIMES)}, not {serving.get('runtime')!r}")
        return section(
            cls,
            serving,
            "serving",
            faces=FaceSpec.from_params(serving["faces"]),
            limits=UploadLimits.from_params(serving["limits"]),
            workers=section(Workers, serving["workers"], "serving.workers"),
            batching=section(Batching, serving["batching"], "serving.batching"),
            queue=section(Queue, serving["queue"], "serving.queue"),
            video=VideoSpec.from_params(serving["video"]),
        )
