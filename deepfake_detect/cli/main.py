"""`deepfake-detect predict PATH...`: the service's inference path without a server.

Images and folders (recursively); one line per face, or `--json` / `--csv` for machines;
`--explain DIR` writes the heat-map overlays; unreadable files are listed and skipped.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from pathlib import Path

import numpy as np

from deepfake_detect.config import load_params
from deepfake_detect.data.layout import IMAGE_SUFFIXES
from deepfake_detect.inference import analysis, champion, clips, drawing, heatmaps, video
from deepfake_detect.inference import detector as det
from deepfake_detect.inference.faces import FaceSpec, face_finder
from deepfake_detect.inference.uploads import Refusal, UploadLimits, decode_upload

VIDEO_SUFFIXES = {".mp4", ".m4v", ".mov", ".webm", ".mkv", ".avi"}  # for folders; a file's bytes decide
CSV_FIELDS = ("file", "face", "x", "y", "width", "height", "confidence", "p_fake", "label", "verdict", "warnings")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    root = Path(args.repo).resolve()
    if not (root / "params.yaml").exists():
        print(f"deepfake-detect: no params.yaml in {root}: run it in the repository, or pass --repo", file=sys.stderr)
        return 2
    if args.model:
        os.environ[champion.PIN_ENV] = args.model
    params = load_params(root / "params.yaml")
    try:
        found = champion.resolve(root, params)
    except champion.NoChampion as err:
        print(f"deepfake-detect: {err}", file=sys.stderr)
        return 2
    files, missing = _files(args.paths)
    for path in missing:
        print(f"deepfake-detect: skipped {path}: no such file or folder", file=sys.stderr)
    print(f"deepfake-detect: {len(files)} image file(s), champion {found.summary()}", file=sys.stderr)
    return _predict(files, found, params, args) or (1 if missing else 0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="deepfake-detect", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    predict = sub.add_parser("predict", help="judge image files and folders of images")
    predict.add_argument("paths", nargs="+", type=Path)
    out = predict.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="one JSON list, an object per file, on stdout")
    out.add_argument("--csv", action="store_true", help="CSV on stdout, a row per face")
    predict.add_argument("--explain", type=Path, metavar="DIR", help="write each file's heat-map overlay here (PNG)")
    predict.add_argument("--model", help="a BentoML model tag to use instead of the champion")
    predict.add_argument("--repo", default=".", help="the repository whose champion and params to use (default: .)")
    return parser


def _files(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    files, missing = [], []
    for path in paths:
        if path.is_dir():
            wanted = IMAGE_SUFFIXES | VIDEO_SUFFIXES
            files += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in wanted)
        elif path.is_file():
            files.append(path)
        else:
            missing.append(path)
    return files, missing


def _predict(files: list[Path], found: champion.Champion, params: dict, args) -> int:
    from tqdm import tqdm

    try:
        detector = det.load(found.path, params["serving"]["runtime"])
    except (ValueError, FileNotFoundError) as err:  # serving.runtime names a graph this champion lacks
        print(f"deepfake-detect: serving.runtime: {err}", file=sys.stderr)
        return 2
    print(f"deepfake-detect: scored by {detector.runtime}", file=sys.stderr)
    find = face_finder(FaceSpec.from_params(params["serving"]["faces"]))
    limits = UploadLimits.from_params(params["serving"]["limits"])
    if args.explain:
        args.explain.mkdir(parents=True, exist_ok=True)
    answers, skipped = [], 0
    writer = csv.DictWriter(sys.stdout, CSV_FIELDS) if args.csv else None
    if writer:
        writer.writeheader()
    video_spec = video.VideoSpec.from_params(params["serving"]["video"])
    # A bar only on a terminal: redrawn into a log it would be one endless line.
    quiet = len(files) < 2 or not sys.stderr.isatty()
    for path in tqdm(files, desc="judging", unit="file", disable=quiet, file=sys.stderr):
        try:
            data = path.read_bytes()
            if video.container_of(data):
                judged = clips.judge_clip(
                    video.sample(data, video_spec), find, detector.predict_proba, detector.meta, video_spec
                )
                _print_clip(path, judged, args, answers, writer)
                continue
            image = decode_upload(data, limits)
        except (Refusal, OSError) as err:
            tqdm.write(f"deepfake-detect: skipped {path}: {err}", file=sys.stderr)
            skipped += 1
            continue
        (verdict,), (crops,) = analysis.analyse([image], find, detector.predict_proba, detector.meta)
        if args.explain:
            heats = heatmaps.heat_maps(detector, np.stack([c.pixels for c in crops]))
            (args.explain / f"{path.stem}.explain.png").write_bytes(
                drawing.explanation_png(image, verdict, crops, heats)
            )
        if args.json:
            answers.append({"file": str(path), **verdict.to_dict()})
        elif writer:
            for row in _rows(path, verdict):
                writer.writerow(row)
        else:
            for line in _lines(path, verdict):
                tqdm.write(line, file=sys.stdout)
    if args.json:
        json.dump(answers, sys.stdout, indent=2)
        print()
    if skipped:
        print(f"deepfake-detect: {skipped} of {len(files)} file(s) skipped (listed above)", file=sys.stderr)
    return 1 if skipped else 0


def _print_clip(path: Path, judged: clips.ClipVerdict, args, answers: list, writer) -> None:
    """One line (or CSV row) per track, or the whole object with --json."""
    from tqdm import tqdm

    if args.json:
        answers.append({"file": str(path), **judged.to_dict()})
        return
    tracks = judged.tracks or [None]
    for track in tracks:
        if writer:
            box = track["frames"][0]["box"] if track else [0, 0, 0, 0]
            writer.writerow(
                {
                    "file": str(path),
                    "face": track["id"] if track else 0,
                    **dict(zip(("x", "y", "width", "height"), box, strict=True)),
                    "confidence": "",
                    "p_fake": track["p_fake"] if track else judged.p_fake,
                    "label": "",
                    "verdict": track["verdict"] if track else judged.verdict,
                    "warnings": "; ".join(judged.warnings),
                }
            )
        elif track:
            times = [f["t"] for f in track["frames"]]
            tqdm.write(
                f"{path}\ttrack {track['id']}/{len(judged.tracks)}, {len(times)} frames "
                f"{times[0]:.1f}-{times[-1]:.1f} s\tP(fake) {track['p_fake']:.3f}\t{track['verdict']}",
                file=sys.stdout,
            )
        else:
            tqdm.write(
                f"{path}\twhole clip\tP(fake) {judged.p_fake:.3f}\t{judged.verdict}  ({judged.warnings[0]})",
                file=sys.stdout,
            )


def _lines(path: Path, verdict: analysis.ImageVerdict) -> list[str]:
    notes = f"  ({'; '.join(verdict.warnings)})" if verdict.warnings else ""
    if not verdict.faces:
        return [f"{path}\twhole image\tP(fake) {verdict.p_fake:.3f}\t{verdict.verdict}{notes}"]
    return [
        f"{path}\tface {i + 1}/{len(verdict.faces)} at {','.join(map(str, f.box))}\tP(fake) {f.p_fake:.3f}\t"
        f"{f.verdict}{notes if i == 0 else ''}"
        for i, f in enumerate(verdict.faces)
    ]


def _rows(path: Path, verdict: analysis.ImageVerdict) -> list[dict]:
    faces = verdict.faces or [None]
    rows = []
    for i, face in enumerate(faces):
        box = face.box if face else [0, 0, verdict.width, verdict.height]
        rows.append(
            {
                "file": str(path),
                "face": i + 1 if face else 0,
                **dict(zip(("x", "y", "width", "height"), box, strict=True)),
                "confidence": face.confidence if face else "",
                "p_fake": face.p_fake if face else verdict.p_fake,
                "label": face.label if face else verdict.label,
                "verdict": face.verdict if face else verdict.verdict,
                "warnings": "; ".join(verdict.warnings),
            }
        )
    return rows


if __name__ == "__main__":
    sys.exit(main())
