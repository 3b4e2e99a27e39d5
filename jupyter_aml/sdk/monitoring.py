"""``ModelDataCollector`` (v1's ``azureml.monitoring``): a scoring script's inputs and predictions, collected
into the workspace's storage when its web service was deployed with ``collect_model_data=True``.

Used in the scoring script as on Azure ML v1::

    def init():
        global inputs_dc, prediction_dc
        inputs_dc = ModelDataCollector("digits", designation="inputs", feature_names=["f0", "f1"])
        prediction_dc = ModelDataCollector("digits", designation="predictions", feature_names=["digit"])

    def run(raw_data):
        data = np.array(json.loads(raw_data)["data"])
        result = model.predict(data)
        inputs_dc.collect(data)
        prediction_dc.collect(result)
        return result.tolist()

``collect()`` never slows the request by more than a queue put: the replica's writer thread writes
(``jupyter_aml.serving.collect``), and the workspace service moves the rows to
``modeldata/<subscription>/<resourcegroup>/<workspace>/<webservice>/<model>/<version>/<designation>/
<yyyy>/<mm>/<dd>/data.csv`` on workspaceblobstore (docs/data-collection.md). Outside a web service that
collects (collection off, a notebook, a test of the script), ``collect()`` does nothing and says so once.
The workspace, web service and model version are those of the service it runs in, whatever the arguments
say: v1 filled them in itself too.
"""

from __future__ import annotations

import sys
from typing import Any

from jupyter_aml.errors import InvalidInput
from jupyter_aml.serving import collect as _collect

_told = False


class ModelDataCollector:
    """Collects one kind of data (``designation``) of one model in a web service."""

    def __init__(self, model_name: str, designation: str = "default", feature_names: list[str] | None = None,
                 workspace: str = "default/default/default", webservice_name: str = "default",
                 model_version: str = "default", collection_name: str = "default") -> None:
        if not isinstance(model_name, str) or not model_name:
            raise InvalidInput("ModelDataCollector needs the model's name", hint="ModelDataCollector('digits', ...)")
        if designation not in _collect.DESIGNATIONS:
            raise InvalidInput(f"designation {designation!r} is not one of {', '.join(_collect.DESIGNATIONS)}",
                               hint="designation='inputs' or 'predictions'")
        if feature_names is not None and (isinstance(feature_names, str)
                                          or not all(isinstance(f, str) for f in feature_names)):
            raise InvalidInput("feature_names must be a list of column names",
                               hint="feature_names=['pixel_0', 'pixel_1']")
        self.model_name = model_name
        self.designation = designation
        self.feature_names = list(feature_names) if feature_names is not None else None
        self.workspace = workspace
        self.webservice_name = webservice_name
        self.collection_name = collection_name
        self.model_version = _collect.deployed_version(model_name) or str(model_version)

    def collect(self, input_data: Any, user_correlation_id: str = "") -> str | None:
        """Queue ``input_data`` (rows: a list of lists, a numpy array, a DataFrame, a dict, a scalar) for
        collection; the record's correlation id (the request's id unless you give one), or None when this
        process does not collect. Do not change ``input_data`` after collecting it: the writer reads it later."""
        cid = _collect.submit(self.model_name, self.model_version, self.designation, self.feature_names,
                              input_data, user_correlation_id or None)
        if cid is None:
            self._off()
        return cid

    def collect_batch(self, items: Any, user_correlation_ids: list[str] | None = None) -> list[str] | None:
        """In a batching service's ``run_batch()`` (``max_batch_size``): one record per request of the batch,
        ``items[i]`` being what to keep of request ``i`` (rows, as ``collect()`` takes), each under its own
        caller's request id. Not in v1 (which had no batching). The ids, or None when this process does not
        collect; a ValueError when ``items`` does not hold one item per request."""
        ids = _collect.submit_batch(self.model_name, self.model_version, self.designation, self.feature_names,
                                    items, user_correlation_ids)
        if ids is None:
            self._off()
        return ids

    @staticmethod
    def _off() -> None:
        global _told
        if not _told:
            _told = True
            sys.stderr.write("[data collection] ModelDataCollector.collect: model data collection is off here "
                             "(deploy the web service with collect_model_data=True); nothing is collected\n")

    def add_correlations(self, input_data: Any, correlations: dict[str, Any]) -> Any:
        """v1 added correlation headers to data here; collect() records the request's id itself."""
        return input_data

    def __repr__(self) -> str:
        return (f"ModelDataCollector(model_name={self.model_name!r}, designation={self.designation!r}, "
                f"model_version={self.model_version!r})")


__all__ = ["ModelDataCollector"]
