"""What a user is told about the champion before trusting its verdict: what it learnt from, how well
it did on test, where it breaks. The package stage stores this with the BentoML model, so the page
and the service say it of the very model that answers, not of whatever the repository holds now."""

from __future__ import annotations

from deepfake_detect.evaluation.headline import perturbed_roc_aucs

SOURCES = {
    "synthetic": "the generated stand-in data set (procedurally drawn faces, fakes through a simulated GAN decoder)",
    "kaggle": 'Kaggle\'s "140K Real and Fake Faces" (FFHQ photographs, StyleGAN fakes)',
    "folder": "a folder of labelled real and fake images (data.source: folder)",
}
GENERATED_WARNING = (
    "This model learnt from generated stand-in faces, not photographs: on real photos its verdicts "
    "mean nothing. Train it on the 140k faces (data.source: kaggle) or on your own folder first."
)
# How each perturbation's level reads, as the robustness stage applies it (evaluation.perturbations).
LEVELS = {
    "jpeg": "re-saved as JPEG at quality {:g}",
    "blur": "blurred (Gaussian, sigma {:g} px)",
    "rescale": "shrunk to {:.0%} and enlarged back",
    "noise": "sensor noise (sigma {:g} grey levels)",
    "crop": "cropped to the centre {:.0%}",
}


def model_card(name: str, extra: dict, data: dict, evaluated: dict, robustness: dict) -> dict:
    """The facts, from the model's own meta (train's tags), metrics/data.json, its entry in
    metrics/evaluate.json and metrics/robustness.json."""
    source = extra.get("data_source", "?")
    return {
        "model": name,
        "data_source": source,
        "trained_on": SOURCES.get(source, source),
        "images": data.get("splits", {}),
        "data_hash": extra.get("data_hash", "")[:12],
        "test": {
            "roc_auc": evaluated["test"]["roc_auc"],
            "roc_auc_ci95": [evaluated["test_ci95"]["roc_auc"][k] for k in ("low", "high")],
            "accuracy": evaluated["test"]["accuracy"],
            "n": evaluated["test"]["n"],
        },
        "threshold_rule": evaluated["operating_point"]["rule"],
        "high_confidence_fpr": evaluated["operating_point"].get("high_confidence_fpr"),
        "worst_robustness": worst_robustness(name, robustness),
        "warning": GENERATED_WARNING if source == "synthetic" else "",
    }


def worst_robustness(name: str, robustness: dict) -> dict | None:
    """The perturbation and level at which the model's test ROC-AUC falls lowest."""
    tried = perturbed_roc_aucs(
        {kind: models.get(name, []) for kind, models in robustness.get("perturbations", {}).items()}
    )
    if not tried:
        return None
    roc_auc, kind, level = min(tried)
    return {
        "perturbation": kind,
        "level": level,
        "roc_auc": roc_auc,
        "clean_roc_auc": robustness["clean"][name]["roc_auc"],
        "text": LEVELS.get(kind, kind + " {:g}").format(level),
    }
