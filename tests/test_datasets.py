"""Training sees exactly the pixels that evaluation and the service see."""

from pathlib import Path

import numpy as np

from deepfake_detect.data import scan, synthetic
from deepfake_detect.data.batches import iter_images
from deepfake_detect.data.manifest import labels_of
from deepfake_detect.data.tf_dataset import tf_dataset
from deepfake_detect.images import center_crop, decode_rgb


def make_entries(tmp_path: Path):
    synthetic.generate(
        synthetic.SyntheticSpec(64, {"train": 3, "valid": 1, "test": 1}, 0.5, 90, 5, unseen_per_class=0),
        tmp_path / "raw",
        workers=1,
    )
    odd = tmp_path / "raw" / "extra" / "fake" / "odd.png"
    odd.parent.mkdir(parents=True)
    from PIL import Image

    Image.fromarray(np.random.default_rng(0).integers(0, 256, (90, 70), dtype=np.uint8), "L").save(odd)
    scanned, dropped = scan.scan(tmp_path / "raw", 64, tmp_path / "converted", workers=1)
    entries = [x.entry for x in scanned]
    assert not dropped and any(e.path.endswith(".png") for e in entries)
    return entries


def test_tf_pipeline_decodes_the_same_pixels_as_the_service(tmp_path):
    entries = make_entries(tmp_path)
    ds = tf_dataset(entries, 64, 32, batch_size=4, training=False, seed=0, cache=True)
    crops = np.concatenate([x.numpy() for x, _ in ds])
    labels = np.concatenate([y.numpy() for _, y in ds])
    served = np.stack([center_crop(decode_rgb(Path(e.path).read_bytes(), 64), 32) for e in entries])
    assert crops.dtype == np.uint8 and np.array_equal(crops, served)
    assert np.array_equal(labels, labels_of(entries))
    batches = np.concatenate(list(iter_images(entries, 64, batch_size=3)))
    assert np.array_equal(center_crop(batches, 32), served)


def test_training_pipeline_gives_random_native_resolution_crops(tmp_path):
    entries = make_entries(tmp_path)
    ds = tf_dataset(entries, 64, 32, batch_size=64, training=True, seed=1, cache=False)
    first, second = (next(iter(ds))[0].numpy() for _ in range(2))
    assert first.shape == (len(entries), 32, 32, 3) and first.dtype == np.uint8
    # Every crop is a window of some full image, unscaled (possibly mirrored).
    full = [decode_rgb(Path(e.path).read_bytes(), 64) for e in entries]

    def is_window(crop):
        for img in full:
            for candidate in (img, img[:, ::-1]):
                for top in range(33):
                    rows = candidate[top : top + 32]
                    for left in range(33):
                        if np.array_equal(rows[:, left : left + 32], crop):
                            return True
        return False

    assert all(is_window(c) for c in first[:4])
    assert not np.array_equal(first, second)  # reshuffled and re-cropped each epoch
