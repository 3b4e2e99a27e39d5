"""jupyter-aml import shim for the ``azureml`` namespace (see jupyter_aml/_shim/README.md).

Other installed ``azureml.*`` distributions stay importable: the package path is extended with every
``azureml`` folder on sys.path.
"""

from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)
__version__ = "jupyter-aml-shim"
