"""The data: where images come from (generated, Kaggle, a folder), and how they become a clean,
split, audited manifest and batches of pixels."""
