"""The ``azureml`` namespace as jupyter-aml installs it: Azure ML v1 code (``import azureml.core``) works in
every interpreter of the environment, and a real ``azureml-*`` package always wins.

``pkgutil.extend_path`` adds every ``azureml`` folder on ``sys.path``, exactly as Azure's own
``azureml/__init__.py`` does (the two files are content-compatible), then jupyter-aml's shim folder
(``jupyter_aml/_shim/azureml``) is appended *last*, unless a real ``azureml/core`` is on the path
(jupyter_aml/_azureml_namespace.py has the rule, and the fallback for when another package replaces this file).
"""

from __future__ import annotations

from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)

try:
    from jupyter_aml._azureml_namespace import extend_with_shim
except ImportError:  # jupyter-aml was uninstalled and left this file: a plain namespace
    pass
else:
    extend_with_shim(__path__)
