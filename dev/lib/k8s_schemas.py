"""Writes the JSON schemas kubeconform validates the rendered chart against,
offline: Kubernetes' own kinds from the schemas the kubernetes-validate
package bundles, and the custom resources the chart uses (ServiceMonitor,
PrometheusRule, ScaledObject, TriggerAuthentication) from the CRDs their
projects publish, fetched from the Go module proxy by dev/check-deploy.

Usage: python k8s_schemas.py KUBERNETES_VERSION OUT_DIR CRD_YAML...
Writes OUT_DIR/<kind>-<group>-<version>.json and
OUT_DIR/crds/<group>/<kind>_<version>.json (kubeconform's default layouts).
"""

import glob
import json
import os
import sys

import kubernetes_validate
import yaml


def builtin_kinds(version, out):
    """kubernetes-validate's schemas name themselves by a kubernetes.io $id
    and reach their definitions by absolute refs, which kubeconform would try
    to fetch; made file-relative, they resolve on disk."""
    source = os.path.join(
        os.path.dirname(kubernetes_validate.__file__),
        "kubernetes-json-schema",
        f"v{version}-local-strict",
    )
    paths = glob.glob(os.path.join(source, "*.json"))
    if not paths:
        sys.exit(f"kubernetes-validate has no schemas for Kubernetes {version}")
    for path in paths:
        with open(path) as f:
            text = f.read().replace('"/api/_definitions.json#', '"_definitions.json#')
        schema = json.loads(text)
        if isinstance(schema, dict):
            schema.pop("$id", None)
        with open(os.path.join(out, os.path.basename(path)), "w") as f:
            json.dump(schema, f)
    return len(paths)


def closed(schema):
    """Strict like Kubernetes' built-in kinds: an object that lists its
    properties takes no others, unless the CRD keeps unknown fields."""
    if isinstance(schema, dict):
        if (
            schema.get("type") == "object"
            and "properties" in schema
            and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")
        ):
            schema["additionalProperties"] = False
        for value in schema.values():
            closed(value)
    elif isinstance(schema, list):
        for item in schema:
            closed(item)
    return schema


def custom_kinds(crd_paths, out):
    written = 0
    for path in crd_paths:
        with open(path) as f:
            crd = yaml.safe_load(f)
        spec = crd["spec"]
        group, kind = spec["group"], spec["names"]["kind"].lower()
        os.makedirs(os.path.join(out, "crds", group), exist_ok=True)
        for version in spec["versions"]:
            schema = closed(version["schema"]["openAPIV3Schema"])
            target = os.path.join(out, "crds", group, f"{kind}_{version['name']}.json")
            with open(target, "w") as f:
                json.dump(schema, f)
            written += 1
    return written


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    version, out, crds = sys.argv[1], sys.argv[2], sys.argv[3:]
    os.makedirs(out, exist_ok=True)
    builtin = builtin_kinds(version, out)
    custom = custom_kinds(crds, out)
    print(f"{builtin} Kubernetes {version} schemas, {custom} custom resource schemas in {out}")


if __name__ == "__main__":
    main()
