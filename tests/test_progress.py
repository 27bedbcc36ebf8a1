"""Progress off a terminal: a few whole lines, never a bar redrawn with carriage returns."""

from deepfake_detect import progress


def test_a_log_gets_a_line_per_tenth_and_no_carriage_return(capsys):
    items = list(progress.bar(range(250), desc="decoding images", unit="img"))
    err = capsys.readouterr().err
    assert items == list(range(250))
    lines = err.splitlines()
    assert "\r" not in err
    assert len(lines) == 10
    assert lines[0].startswith("decoding images: 25/250 img (10%)")
    assert lines[-1].startswith("decoding images: 250/250 img (100%)")


def test_bytes_are_counted_in_units_people_read(capsys):
    with progress.bar(total=3_000_000_000, desc="unpacking archive.zip", unit="B", scale=True) as unpacked:
        for _ in range(3):
            unpacked.update(1_000_000_000)
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(",")[0] for line in lines] == [
        f"unpacking archive.zip: {n}.0 GB/3.0 GB ({100 * n // 3}%)" for n in (1, 2, 3)
    ]


def test_an_unknown_length_says_how_far_it_got_once(capsys):
    assert sum(progress.bar((i for i in range(7)), desc="folds", unit="fold")) == 21
    assert capsys.readouterr().err.splitlines()[0].startswith("folds: 7 fold,")


def test_keras_prints_a_line_per_epoch_in_a_log():
    assert progress.keras_verbosity("auto") == 2  # pytest captures stdout: not a terminal
    assert progress.keras_verbosity(1) == 1
