"""MLflow's model registry on the workspace's model registry (``core/registry.py``): one store, two APIs.

- a registered model is a model name of the workspace; a model version is a v1 model version (``Model(ws,
  name, version=n)``), so ``mlflow.register_model`` makes a version the v1 SDK, the CLI and the studio show,
  and a model registered through the v1 SDK is a registered model to ``MlflowClient``;
- a version's tags are its v1 tags; v1 has no tags on the name itself, so a registered model's tags are those
  of its latest version, and setting one tags that version (with no version yet it is refused, saying so);
- an alias is the version tag ``mlflow.alias.<alias>`` (one version holds it: setting it moves it); MLflow 3
  deprecates stages, so ``transition-stage`` sets the version tag ``mlflow.stage``, read as ``current_stage``;
- a version's source (``models:/<model_id>``, ``runs:/<run_id>/<path>``, a run's ``mlflow-artifacts:`` URI) is
  registered by reference to its run's files, with the run as lineage; the source and the logged model are
  kept as the version's properties ``mlflow.source`` and ``mlflow.modelId``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import pydantic

from jupyter_aml.core import registry_models as rm
from jupyter_aml.core.mlflow_models import FILES_PREFIX, RegistryNames
from jupyter_aml.core.service import AMLService
from jupyter_aml.errors import Conflict, NotFound
from jupyter_aml.mlflow_api import convert as cv
from jupyter_aml.mlflow_api import filters, model_artifacts
from jupyter_aml.mlflow_api.errors import RESOURCE_ALREADY_EXISTS, MlflowError, invalid, missing
from jupyter_aml.mlflow_api.ids import to_mlflow
from jupyter_aml.mlflow_api.logged_models import LoggedModelsApi

ALIAS = "mlflow.alias."
STAGE = "mlflow.stage"
SOURCE, MODEL_ID = "mlflow.source", "mlflow.modelId"
STAGES = {"none": "None", "staging": "Staging", "production": "Production", "archived": "Archived"}
REGISTERED = filters.Schema(entities=frozenset({"tag", "attribute"}), string_attributes=frozenset({"name"}),
                            numeric_attributes=frozenset(), aliases={})
VERSIONS = filters.Schema(entities=frozenset({"tag", "attribute"}),
                          string_attributes=frozenset({"name", "run_id", "source", "model_id"}),
                          numeric_attributes=frozenset({"version_number"}), aliases={})


def _ms(model: rm.Model) -> int:
    return int(model.created_at.timestamp() * 1000)


def version_json(m: rm.Model) -> dict[str, Any]:
    tags = {k: v for k, v in m.tags.items() if not k.startswith(ALIAS) and k != STAGE}
    body: dict[str, Any] = {
        "name": m.name, "version": str(m.version), "creation_timestamp": _ms(m), "last_updated_timestamp": _ms(m),
        "user_id": m.created_by, "current_stage": m.tags.get(STAGE, "None"), "description": m.description,
        "source": m.properties.get(SOURCE, f"models:/{m.name}/{m.version}"), "status": "READY",
        "tags": cv.kv(tags), "aliases": sorted(k[len(ALIAS):] for k in m.tags if k.startswith(ALIAS)),
    }
    if m.run_id:
        body["run_id"] = to_mlflow(m.run_id)
    if MODEL_ID in m.properties:
        body["model_id"] = m.properties[MODEL_ID]
    return body


class Registry:
    def __init__(self, service: AMLService, logged: LoggedModelsApi) -> None:
        self.service = service
        self.names = RegistryNames(service.db)
        self.logged = logged

    # -- helpers ------------------------------------------------------------------------------------
    def _versions(self, workspace: str, name: str | None = None) -> list[rm.Model]:
        return self.service.models.find(workspace, name=name, limit=100_000)

    def _version(self, workspace: str, name: str, version: str) -> rm.Model:
        if not version.isascii() or not version.isdigit() or len(version) > 9:
            raise invalid(f"Invalid model version {version!r}: a positive integer")
        try:
            return self.service.models.get(workspace, name, int(version))
        except NotFound:
            raise missing(f"Model Version (name={name}, version={version}) not found") from None

    def _model_json(self, workspace: str, name: str, versions: list[rm.Model] | None = None) -> dict[str, Any]:
        versions = self._versions(workspace, name) if versions is None else versions
        if not versions and not self.names.exists(workspace, name):
            raise missing(f"Registered Model with name={name} not found")
        latest = max(versions, key=lambda v: v.version) if versions else None
        aliases = [{"alias": k[len(ALIAS):], "version": str(v.version)} for v in versions for k in v.tags
                   if k.startswith(ALIAS)]
        body: dict[str, Any] = {"name": name, "aliases": sorted(aliases, key=lambda a: a["alias"])}
        if latest is not None:
            body.update(creation_timestamp=min(_ms(v) for v in versions), last_updated_timestamp=_ms(latest),
                        latest_versions=[version_json(latest)], description=latest.description,
                        tags=version_json(latest)["tags"])
        return body

    def _tag(self, workspace: str, m: rm.Model, set_: dict[str, str] | None = None,
             remove: list[str] | None = None) -> None:
        try:
            self.service.models.update(workspace, m.name, m.version,
                                       rm.ModelUpdate(tags=set_, remove_tags=remove or []))
        except pydantic.ValidationError as exc:
            raise invalid(f"Invalid tag: {exc.errors()[0]['msg']}") from None

    def _latest(self, workspace: str, name: str) -> rm.Model:
        versions = self._versions(workspace, name)
        if not versions:
            if self.names.exists(workspace, name):
                raise invalid(f"Registered model {name} has no version yet: its tags are its versions' (v1 tags are "
                              "per version)", hint="create a version first, or tag a version")
            raise missing(f"Registered Model with name={name} not found")
        return max(versions, key=lambda v: v.version)

    # -- registered models --------------------------------------------------------------------------
    def create(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        name = _name(req)
        if not self.names.ensure(workspace, name):
            raise MlflowError(RESOURCE_ALREADY_EXISTS, f"Registered Model (name={name}) already exists.")
        if cv.objects(req, "tags") or cv.text(req, "description", required=False):
            raise invalid("Tags and a description on a registered model with no version are not kept here: a "
                          "v1 model's tags are per version", hint="set them on its versions")
        return {"registered_model": self._model_json(workspace, name, [])}

    def get(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        return {"registered_model": self._model_json(workspace, _name(req))}

    def rename(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        name, new_name = _name(req), _name(req, "new_name")
        self._model_json(workspace, name)
        try:
            self.names.rename(workspace, name, new_name)
        except Conflict as exc:
            raise MlflowError(RESOURCE_ALREADY_EXISTS, exc.message) from None
        return {"registered_model": self._model_json(workspace, new_name)}

    def update(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        name = _name(req)
        latest = self._latest(workspace, name)
        self.service.models.update(workspace, name, latest.version,
                                   rm.ModelUpdate(description=cv.text(req, "description", required=False)))
        return {"registered_model": self._model_json(workspace, name)}

    def delete(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        name = _name(req)
        for v in self._versions(workspace, name):
            self.service.models.delete(workspace, name, v.version)  # a deployed version refuses (INVALID_STATE)
        if not self.names.exists(workspace, name):
            raise missing(f"Registered Model with name={name} not found")
        self.names.forget(workspace, name)
        return {}

    def search(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        where = filters.parse_filter(cv.text(req, "filter", required=False), REGISTERED)
        order = filters.parse_order_by(cv.strings(req, "order_by"), REGISTERED)
        by_name: dict[str, list[rm.Model]] = {n: [] for n in self.names.names(workspace)}
        for v in self._versions(workspace):
            by_name.setdefault(v.name, []).append(v)
        bodies = [self._model_json(workspace, n, vs) for n, vs in by_name.items()]
        found = [b for b in bodies if _matches(where, functools.partial(_field, b))]
        found.sort(key=lambda b: b["name"], reverse=bool(order) and not order[0].ascending)
        return _page(req, found, "registered_models")

    def set_tag(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        self._tag(workspace, self._latest(workspace, _name(req)), {cv.text(req, "key"): str(req.get("value", ""))})
        return {}

    def delete_tag(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        self._tag(workspace, self._latest(workspace, _name(req)), remove=[cv.text(req, "key")])
        return {}

    def latest_versions(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        body = self._model_json(workspace, _name(req))
        return {"model_versions": body.get("latest_versions", [])}

    # -- aliases ------------------------------------------------------------------------------------
    def set_alias(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        name, alias = _name(req), _alias(req)
        target = self._version(workspace, name, cv.text(req, "version"))
        for v in self._versions(workspace, name):
            if ALIAS + alias in v.tags and v.version != target.version:
                self._tag(workspace, v, remove=[ALIAS + alias])
        self._tag(workspace, target, {ALIAS + alias: ""})
        return {}

    def delete_alias(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        name, alias = _name(req), _alias(req)
        for v in self._versions(workspace, name):
            if ALIAS + alias in v.tags:
                self._tag(workspace, v, remove=[ALIAS + alias])
        return {}

    def by_alias(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        name, alias = _name(req), _alias(req)
        for v in self._versions(workspace, name):
            if ALIAS + alias in v.tags:
                return {"model_version": version_json(v)}
        raise missing(f"Registered model alias {alias} not found.")

    # -- versions -----------------------------------------------------------------------------------
    def create_version(self, workspace: str, req: Mapping[str, Any], created_by: str) -> dict[str, Any]:
        name, source = _name(req), cv.text(req, "source")
        run_id, path, model_id = self._resolve_source(workspace, source, cv.text(req, "run_id", required=False))
        tags = {str(t.get("key")): str(t.get("value", "")) for t in cv.objects(req, "tags")}
        props = {SOURCE: source, **({MODEL_ID: model_id} if model_id else {})}
        try:
            spec = rm.ModelCreate(name=name, run_id=run_id, run_path=path, tags=tags, properties=props,
                                  description=cv.text(req, "description", required=False),
                                  framework=None)
        except pydantic.ValidationError as exc:
            raise invalid(f"Invalid model version: {exc.errors()[0]['msg']}") from None
        model = self.service.models.register(workspace, spec, created_by=created_by)
        return {"model_version": version_json(model)}

    def _resolve_source(self, workspace: str, source: str, run_id: str) -> tuple[str, str, str | None]:
        """(run id, path among its files, logged model id) of a version's source."""
        if source.startswith("models:/m-") and "/" not in source[len("models:/"):]:
            model_id = source[len("models:/"):]
            try:
                rec = self.logged.store.get(workspace, model_id)
            except NotFound:
                raise missing(f"Logged model with ID '{model_id}' not found") from None
            return rec.run_id, f"{FILES_PREFIX}/{model_id}", model_id
        ids = self.logged.runs.ids  # a run id in MLflow's form read back (mlflow_api/ids.py)
        if source.startswith("runs:/"):
            rid, _, path = source[len("runs:/"):].partition("/")
            return ids.from_mlflow(rid), path, None
        prefix = "mlflow-artifacts:/runs/"
        if source.startswith(prefix):
            rid, _, rest = source[len(prefix):].partition("/")
            if rest.startswith("artifacts/"):
                return ids.from_mlflow(rid), rest[len("artifacts/"):], None
        raise invalid(f"Unsupported model version source {source!r}: here a version is registered from a run's "
                      "files", hint="use models:/<logged model id>, runs:/<run_id>/<path> or the run's artifact URI")

    def get_version(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        return {"model_version": version_json(self._version(workspace, _name(req), cv.text(req, "version")))}

    def update_version(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        m = self._version(workspace, _name(req), cv.text(req, "version"))
        m = self.service.models.update(workspace, m.name, m.version,
                                       rm.ModelUpdate(description=cv.text(req, "description", required=False)))
        return {"model_version": version_json(m)}

    def delete_version(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        m = self._version(workspace, _name(req), cv.text(req, "version"))
        self.service.models.delete(workspace, m.name, m.version)
        return {}

    def set_version_tag(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        m = self._version(workspace, _name(req), cv.text(req, "version"))
        self._tag(workspace, m, {cv.text(req, "key"): str(req.get("value", ""))})
        return {}

    def delete_version_tag(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        m = self._version(workspace, _name(req), cv.text(req, "version"))
        self._tag(workspace, m, remove=[cv.text(req, "key")])
        return {}

    def transition_stage(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        m = self._version(workspace, _name(req), cv.text(req, "version"))
        stage = STAGES.get(cv.text(req, "stage").lower())
        if stage is None:
            raise invalid(f"Invalid Model Version stage: {req.get('stage')}. Value must be one of "
                          f"{', '.join(STAGES.values())}.")
        if str(req.get("archive_existing_versions", "false")).lower() == "true":
            for v in self._versions(workspace, m.name):
                if v.version != m.version and v.tags.get(STAGE) == stage:
                    self._tag(workspace, v, {STAGE: "Archived"})
        self._tag(workspace, m, {STAGE: stage})
        return {"model_version": version_json(self.service.models.get(workspace, m.name, m.version))}

    def download_uri(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        m = self._version(workspace, _name(req), cv.text(req, "version"))
        if MODEL_ID in m.properties:
            return {"artifact_uri": f"models:/{m.properties[MODEL_ID]}"}
        return {"artifact_uri": model_artifacts.artifact_uri(m.name, m.version)}

    def search_versions(self, workspace: str, req: Mapping[str, Any]) -> dict[str, Any]:
        where = filters.parse_filter(cv.text(req, "filter", required=False), VERSIONS)
        bodies = [version_json(v) for v in self._versions(workspace)]
        found = [b for b in bodies if _matches(where, functools.partial(_version_field, b))]
        found.sort(key=lambda b: (b["name"], -int(b["version"])))
        return _page(req, found, "model_versions")


def _name(req: Mapping[str, Any], field: str = "name") -> str:
    name = cv.text(req, field)
    if len(name) > 255 or not name[0].isalnum() or not all(c.isalnum() or c in "_.-" for c in name):
        raise invalid(f"Invalid model name {name!r}: this workspace's model names are 1-255 letters, digits, "
                      "'_', '-' or '.', starting with a letter or digit")
    return name


def _alias(req: Mapping[str, Any]) -> str:
    alias = cv.text(req, "alias")
    if not all(c.isalnum() or c in "_-" for c in alias) or len(alias) > 200 or alias.lower() == "latest":
        raise invalid(f"Invalid alias {alias!r}: letters, digits, '_' and '-', and not 'latest'")
    return alias


def _page(req: Mapping[str, Any], found: list[dict[str, Any]], key: str) -> dict[str, Any]:
    from jupyter_aml.mlflow_api.experiments import decode_token, encode_token

    limit = cv.integer(req, "max_results", default=100) or 0
    if not 1 <= limit <= 100_000:
        raise invalid(f"Invalid value {limit} for parameter 'max_results': at least 1")
    offset = decode_token(cv.text(req, "page_token", required=False))
    answer: dict[str, Any] = {key: found[offset:offset + limit]}
    if offset + limit < len(found):
        answer["next_page_token"] = encode_token(offset + limit)
    return answer


def _matches(where: list[filters.Comparison], lookup: filters.Lookup) -> bool:
    """MLflow's registry search: ``tags.k != 'v'`` holds for a model without the tag (the client adds
    ``tags.`mlflow.prompt.is_prompt` != 'true'`` to every search, so a SQL ``!=`` would find nothing)."""
    return all((c.op == "!=" and c.entity == "tag" and lookup(c.entity, c.key) is None)
               or filters.matches([c], lookup) for c in where)


def _field(body: Mapping[str, Any], entity: str, key: str) -> str | float | None:
    if entity == "tag":
        return next((t["value"] for t in body.get("tags", []) if t["key"] == key), None)
    value = body.get(key)
    return value if isinstance(value, str) else None


def _version_field(body: Mapping[str, Any], entity: str, key: str) -> str | float | None:
    if entity == "tag":
        return next((t["value"] for t in body["tags"] if t["key"] == key), None)
    if key == "version_number":
        return float(body["version"])
    value = body.get(key)
    return value if isinstance(value, str) else None
