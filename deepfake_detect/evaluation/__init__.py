"""Evaluation: each model's operating point fitted on validation, the test split scored once, and
how the models hold up (perturbations, FGSM, other generators), explained, compared and logged."""
