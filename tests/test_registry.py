"""Registering the champion in a real MLflow store: packaging again reuses the version."""

import mlflow
import numpy as np
from sklearn.linear_model import LogisticRegression

from deepfake_detect.inference import registry


def test_packaging_again_moves_the_alias_to_the_same_version(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    try:
        uris = []
        for seed in (0, 1):
            x = np.random.default_rng(seed).normal(size=(20, 3))
            with mlflow.start_run():
                logged = mlflow.sklearn.log_model(LogisticRegression().fit(x, x[:, 0] > 0), name="model")
            uris.append(logged.model_uri)
        tags = {"threshold": "0.500000"}
        first = registry.register_in_mlflow(uris[0], "detector", "champion", tags)
        other = registry.register_in_mlflow(uris[1], "detector", "champion", tags)
        again = registry.register_in_mlflow(uris[0], "detector", "champion", tags)
        moved = registry.register_in_mlflow(uris[0], "detector", "champion", {"threshold": "0.600000"})
        client = mlflow.MlflowClient()
        assert (first, other, again, moved) == ("1", "2", "1", "3")
        assert str(client.get_model_version_by_alias("detector", "champion").version) == "3"
        assert client.get_model_version("detector", "3").tags["threshold"] == "0.600000"
    finally:
        mlflow.set_tracking_uri(None)
