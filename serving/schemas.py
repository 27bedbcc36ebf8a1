"""The service's answers as pydantic models, so that the OpenAPI page documents every field."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Label = Literal["real", "fake"]
Verdict = Literal["real", "suspicious", "fake"]


class FaceAnswer(BaseModel):
    box: list[int] = Field(description="x, y, width, height of the face in the upload, pixels")
    confidence: float = Field(description="the face detector's probability that this is a face")
    p_fake: float = Field(description="calibrated probability that this face is generated")
    label: Label = Field(description="fake when p_fake >= threshold")
    verdict: Verdict = Field(description="real below threshold, fake at or above high_threshold, suspicious between")


class ImageSize(BaseModel):
    width: int
    height: int


class Prediction(BaseModel):
    verdict: Verdict = Field(description="the image's verdict: that of its most suspect face")
    label: Label
    p_fake: float = Field(description="the highest p_fake over the faces (the whole image's when none was found)")
    threshold: float = Field(description="chosen on validation by evaluate.threshold.rule: at or above, label fake")
    high_threshold: float = Field(
        description="chosen on validation at evaluate.threshold.high_confidence_fpr: at or above, verdict fake"
    )
    model: str = Field(description="the champion's family in the model zoo")
    model_version: str = Field(description="its BentoML tag and MLflow registry version")
    image: ImageSize
    faces: list[FaceAnswer]
    warnings: list[str] = Field(description="e.g. that no face was found and the whole image was scored")


class ErrorAnswer(BaseModel):
    error: str = Field(description="what was wrong and what to do")
    detail: Any = Field(None, description="validation details, when there are any")


class VideoInfo(BaseModel):
    duration_s: float
    fps: float
    frames_sampled: int


class TimelineEntry(BaseModel):
    t: float = Field(description="seconds into the clip")
    p_fake: float = Field(description="the frame's most suspect face (the whole frame's when it has none)")
    faces: int


class TrackFrame(BaseModel):
    t: float
    box: list[int] = Field(description="x, y, width, height in the frame, pixels")
    p_fake: float


class TrackAnswer(BaseModel):
    id: int
    p_fake: float = Field(description="the track's frames aggregated by `rule`")
    verdict: Verdict
    frames: list[TrackFrame]


class Segment(BaseModel):
    start: float = Field(description="seconds")
    end: float = Field(description="seconds")
    p_fake: float = Field(description="the mean over the segment's frames at or above threshold")


class VideoPrediction(BaseModel):
    verdict: Verdict
    p_fake: float = Field(description="the frames with a face (every frame when none has one) aggregated by `rule`")
    rule: str
    threshold: float
    high_threshold: float
    model: str
    model_version: str
    video: VideoInfo
    timeline: list[TimelineEntry]
    tracks: list[TrackAnswer]
    segments: list[Segment] = Field(description="runs of frames at or above threshold, merged across short gaps")
    warnings: list[str]
