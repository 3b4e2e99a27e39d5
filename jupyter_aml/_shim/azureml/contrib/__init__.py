"""``azureml.contrib`` provided by jupyter-aml: v1's preview packages that pipelines use (docs/pipelines.md).

Other installed ``azureml.contrib.*`` distributions stay importable: the package path is extended with every
``azureml/contrib`` folder on sys.path.
"""

from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)
