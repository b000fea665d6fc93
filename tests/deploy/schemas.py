"""Validate Kubernetes documents against real schemas, offline, rejecting unknown fields.

- Core kinds (``v1``, ``apps/v1``, ``networking.k8s.io/v1``, ``node.k8s.io/v1`` …): the
  Kubernetes JSON schemas bundled by ``kubernetes-validate``, strict variant (unknown fields
  fail), for :data:`tests.deploy.render.KUBE_VERSION`.
- Custom resources: the ``openAPIV3Schema`` of the served version in the CRD YAMLs taken from
  the pinned Go modules (Knative Serving/Eventing, eventing-kafka-broker, KEDA), made strict by
  adding ``additionalProperties: false`` to every object schema that lists ``properties`` and
  does not carry ``x-kubernetes-preserve-unknown-fields``; checked with Draft 7. A custom
  resource's ``metadata`` and ``spec.template.metadata`` (left open by CRD schemas) are
  checked as Kubernetes ObjectMeta.
- KEDA trigger ``metadata`` (free strings in the CRD): every key must be a parameter the
  scaler declares (``keda:"name=…,order=triggerMetadata…"`` tags in its pinned Go source, plus
  ``<name>FromEnv`` for ``resolvedEnv`` ones), as KEDA's own optional unexpected-parameter
  check does at run time.
- Any other kind is an error: nothing is skipped silently.

Not evaluated: CEL rules (``x-kubernetes-validations``), value checks the scalers make at run
time, and what only admission webhooks check (Knative feature flags, ``timeoutSeconds`` against
``max-revision-timeout-seconds``).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

Schema = dict[str, Any]

_ROOT_FIELDS: dict[str, Schema] = {
    "apiVersion": {"type": "string"},
    "kind": {"type": "string"},
    "metadata": {"type": "object"},
}


def strict_schema(schema: Any) -> Any:
    """A copy of an openAPIV3Schema in which every object listing ``properties`` (and not
    marked ``x-kubernetes-preserve-unknown-fields``) refuses other properties."""
    if isinstance(schema, list):
        return [strict_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: strict_schema(value) for key, value in schema.items()}
    if "properties" in out:
        # "properties" maps names to schemas: recurse into the values, not the mapping itself.
        out["properties"] = {k: strict_schema(v) for k, v in schema["properties"].items()}
        if not schema.get("x-kubernetes-preserve-unknown-fields"):
            out.setdefault("additionalProperties", False)
    return out


def load_crds(folder: Path) -> dict[tuple[str, str], Schema]:
    """Strict schemas of every served CRD version in ``folder/*.yaml``, keyed by
    (``group/version``, ``kind``)."""
    schemas: dict[tuple[str, str], Schema] = {}
    for path in sorted(folder.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if not doc or doc.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = doc["spec"]["group"], doc["spec"]["names"]["kind"]
            for version in doc["spec"]["versions"]:
                if version.get("served"):
                    raw = copy.deepcopy(version["schema"]["openAPIV3Schema"])
                    # The API server always accepts these three at the root; some CRDs omit them.
                    for name, field in _ROOT_FIELDS.items():
                        raw.setdefault("properties", {}).setdefault(name, field)
                    schemas[(f"{group}/{version['name']}", kind)] = strict_schema(raw)
    return schemas


_KEDA_TAG = re.compile(r'keda:"([^"]*)"')


def keda_trigger_keys(source: str) -> set[str]:
    """The trigger ``metadata`` keys a KEDA scaler's Go source declares: ``name`` of every
    ``keda:"…"`` tag read from ``triggerMetadata``, and ``<name>FromEnv`` for ``resolvedEnv``."""
    keys: set[str] = set()
    for tag in _KEDA_TAG.findall(source):
        params = dict(part.strip().partition("=")[::2] for part in tag.split(","))
        orders = params.get("order", "").split(";")
        for name in params.get("name", "").split(";"):
            if "triggerMetadata" in orders:
                keys.add(name.strip())
            if "resolvedEnv" in orders:
                keys.add(f"{name.strip()}FromEnv")
    return keys


def _is_core(api_version: str) -> bool:
    group = api_version.rpartition("/")[0]
    return group == "" or "." not in group or group.endswith(".k8s.io")


class Validator:
    """Validates documents: ``errors(doc)`` lists the problems (empty when valid)."""

    def __init__(self, crd_folder: Path, keda_scalers: Path, kube_version: str) -> None:
        self.kube_version = kube_version
        self.crds = load_crds(crd_folder)
        self.trigger_keys = {
            path.stem: keda_trigger_keys(path.read_text()) for path in keda_scalers.glob("*.go")
        }

    def errors(self, doc: dict[str, Any]) -> list[str]:
        """Every schema violation of ``doc``, as ``path: message`` strings; an unknown
        ``apiVersion``/``kind`` is one error too."""
        api_version, kind = doc.get("apiVersion", ""), doc.get("kind", "")
        schema = self.crds.get((api_version, kind))
        if schema is not None:
            found = [_describe(e) for e in jsonschema.Draft7Validator(schema).iter_errors(doc)]
            for path, meta in _object_metas(doc):
                holder = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta}
                found += [f"{path}.{error}" for error in self._core_errors(holder)]
            if kind == "ScaledObject":
                found += self._trigger_errors(doc)
            return found
        if not _is_core(api_version):
            return [f"no schema for {api_version} {kind}: not a known custom resource"]
        return self._core_errors(doc)

    def _trigger_errors(self, doc: dict[str, Any]) -> list[str]:
        found = []
        for i, trigger in enumerate(doc.get("spec", {}).get("triggers", [])):
            known = self.trigger_keys.get(trigger.get("type", ""))
            if known is None:
                found.append(f"spec.triggers.{i}: no declared metadata for {trigger.get('type')}")
                continue
            for key in sorted(set(trigger.get("metadata", {})) - known):
                found.append(f"spec.triggers.{i}.metadata: {key!r} is not a parameter")
        return found

    def _core_errors(self, doc: dict[str, Any]) -> list[str]:
        try:
            kubernetes_validate.validate(copy.deepcopy(doc), self.kube_version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            return [_describe(exc)]
        except kubernetes_validate.SchemaNotFoundError as exc:
            return [f"no schema for {doc.get('apiVersion')} {doc.get('kind')}: {exc.message}"]
        return []


def _object_metas(doc: dict[str, Any]) -> list[tuple[str, Any]]:
    """The ObjectMeta fields of a custom resource: its own and its pod template's."""
    metas = [("", doc.get("metadata"))]
    template = doc.get("spec", {}).get("template")
    if isinstance(template, dict) and "metadata" in template:
        metas.append(("spec.template.", template["metadata"]))
    return [(path, meta) for path, meta in metas if isinstance(meta, dict)]


def _describe(error: jsonschema.ValidationError) -> str:
    path = ".".join(str(part) for part in error.absolute_path) or "(root)"
    return f"{path}: {error.message}"
