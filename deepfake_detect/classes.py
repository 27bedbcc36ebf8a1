"""The names every stage agrees on: the two classes and the three splits."""

LABELS = ("real", "fake")
SPLITS = ("train", "valid", "test")
