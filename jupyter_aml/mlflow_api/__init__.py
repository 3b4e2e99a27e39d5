"""MLflow's tracking REST API on the workspace's own experiments, runs and metrics (no second store).

``routes`` mounts it at ``/aml/mlflow`` (docs/mlflow.md); ``experiments``, ``runs`` and ``search`` translate
MLflow's requests to the core's services (``jupyter_aml.core.mlflow_support`` for what the v1 API lacks);
``filters`` is MLflow's search grammar; ``convert`` the JSON both ways; ``errors`` MLflow's error shape.
"""
