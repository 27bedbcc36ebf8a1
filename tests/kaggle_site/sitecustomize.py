"""Python runs this at start when tests/kaggle_site is on PYTHONPATH: the pipelines of the fault
and secret tests download from the fake Kaggle of tests/kaggle_edge.py, through the real client."""

import os
import sys

if os.environ.get("FAKE_KAGGLE_ARCHIVE"):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import kaggle_edge

    kaggle_edge.install_from_env()
