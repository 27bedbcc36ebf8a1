"""A clip's verdicts on the image path: each sampled frame's faces found, aligned and scored as a
photo's are (in chunks, which the service batches with other requests), the faces followed into
tracks, and the clip, each track and the suspicious segments judged by the params' rule."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from deepfake_detect.inference import analysis, timeline, tracks, verdicts
from deepfake_detect.inference.detector import DetectorMeta
from deepfake_detect.inference.faces import FaceFinder
from deepfake_detect.inference.video import Clip, VideoSpec

NO_FACE = "no face in any sampled frame: each frame was scored whole"
CHUNK = 16  # frames analysed at once: bounds the memory a long clip of large frames holds


@dataclass
class ClipVerdict:
    verdict: str
    p_fake: float
    rule: str  # how p_fake was made from the frames, in words
    video: dict  # duration_s, fps, frames_sampled
    timeline: list[dict]  # per sampled frame: t, p_fake (its most suspect face), faces
    tracks: list[dict]  # id, p_fake, verdict, frames: [{t, box, p_fake}]
    segments: list[dict]  # start, end, p_fake
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def judge_clip(clip: Clip, find_faces: FaceFinder, score: analysis.Scorer, meta: DetectorMeta, spec: VideoSpec):
    frames: list[analysis.ImageVerdict] = []
    for start in range(0, len(clip.frames), CHUNK):
        frames += analysis.analyse(clip.frames[start : start + CHUNK], find_faces, score, meta)[0]
    p_frames = [f.p_fake for f in frames]
    followed = tracks.follow([[(face.box, face.p_fake) for face in f.faces] for f in frames])

    def judged(p: float) -> str:
        return verdicts.verdict(p, meta.threshold, meta.high_threshold)

    track_answers = []
    for track in followed:
        p = round(timeline.aggregate(track.p_fake, spec.aggregate), 6)
        track_answers.append(
            {
                "id": track.id,
                "p_fake": p,
                "verdict": judged(p),
                "frames": [
                    {"t": clip.times[i], "box": box, "p_fake": round(q, 6)}
                    for i, box, q in zip(track.frames, track.boxes, track.p_fake, strict=True)
                ],
            }
        )
    # The clip is judged on its faces: the frames with one, or every frame when none has any.
    with_faces = [p for p, f in zip(p_frames, frames, strict=True) if f.faces] or p_frames
    p_clip = round(timeline.aggregate(with_faces, spec.aggregate), 6)
    frame_s = 1.0 / spec.sample_fps
    return ClipVerdict(
        verdict=judged(p_clip),
        p_fake=p_clip,
        rule=f"{spec.aggregate}: {timeline.RULES[spec.aggregate]} with a face",
        video={"duration_s": clip.duration_s, "fps": clip.fps, "frames_sampled": len(frames)},
        timeline=[{"t": t, "p_fake": f.p_fake, "faces": len(f.faces)} for t, f in zip(clip.times, frames, strict=True)],
        tracks=track_answers,
        segments=timeline.segments(clip.times, p_frames, meta.threshold, spec.merge_gap_s, frame_s, clip.duration_s),
        warnings=[] if any(f.faces for f in frames) else [NO_FACE],
    )
