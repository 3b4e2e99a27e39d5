"""``azureml.pipeline`` provided by jupyter-aml (see azureml.core): ML pipelines as v1 wrote them, in
``azureml.pipeline.core`` and ``azureml.pipeline.steps`` (docs/pipelines.md)."""
