"""``azureml.train`` provided by jupyter-aml: a package for ``azureml.train.hyperdrive`` (see azureml.core)."""

__all__: list[str] = []
