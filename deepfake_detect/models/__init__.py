"""The model zoo: each family registered once (models.zoo), with how it trains, is saved and
loaded, scores crops and is logged to MLflow."""
