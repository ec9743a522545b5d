#!/usr/bin/env python3
"""Cross-resource checks on a rendered overlay that the schema validators
cannot make: selectors match their pods, every workload is probed on ports
it exposes and has a PodDisruptionBudget and a NetworkPolicy of its own,
every Service reaches a workload, and (with --min-replicas) every
autoscaler keeps at least that many replicas.

Usage: check_manifests.py RENDERED.yaml [--min-replicas N]
"""

import argparse
import sys

import yaml

WORKLOADS = {"Deployment", "StatefulSet"}


def matches(selector, labels):
    """Whether a label selector (matchLabels / matchExpressions) selects labels."""
    if not selector:
        return True
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in selector.get("matchExpressions") or []:
        key, op, values = e["key"], e["operator"], e.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def probe_port(probe):
    for kind in ("grpc", "httpGet", "tcpSocket"):
        if kind in probe:
            return probe[kind].get("port")
    return None


def check(docs, min_replicas):
    errors = []
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    workloads = [d for d in docs if d["kind"] in WORKLOADS]
    for w in workloads:
        name = f'{w["kind"]}/{w["metadata"]["name"]}'
        spec = w["spec"]
        labels = spec["template"]["metadata"].get("labels") or {}
        if not matches(spec["selector"], labels) or not spec["selector"].get("matchLabels"):
            errors.append(f"{name}: selector does not match its template labels")
        for c in spec["template"]["spec"]["containers"]:
            ports = c.get("ports") or []
            known = {p["containerPort"] for p in ports} | {p.get("name") for p in ports}
            for kind in ("readinessProbe", "livenessProbe"):
                probe = c.get(kind)
                if probe is None:
                    errors.append(f"{name}/{c['name']}: no {kind}")
                elif probe_port(probe) not in known:
                    errors.append(f"{name}/{c['name']}: {kind} port {probe_port(probe)} is not exposed")
        if not any(matches(p["spec"]["selector"], labels) for p in by_kind.get("PodDisruptionBudget", [])):
            errors.append(f"{name}: no PodDisruptionBudget")
        own = [
            p
            for p in by_kind.get("NetworkPolicy", [])
            if p["spec"].get("podSelector") and matches(p["spec"]["podSelector"], labels)
        ]
        if not own:
            errors.append(f"{name}: no NetworkPolicy selects it (a default deny alone does not count)")
    for s in by_kind.get("Service", []):
        sel = s["spec"].get("selector")
        if not sel or not any(
            w["metadata"].get("namespace") == s["metadata"].get("namespace")
            and matches({"matchLabels": sel}, w["spec"]["template"]["metadata"].get("labels") or {})
            for w in workloads
        ):
            errors.append(f'Service/{s["metadata"]["name"]}: selects no workload')
    if min_replicas:
        targets = set()
        for h in by_kind.get("HorizontalPodAutoscaler", []):
            ref = h["spec"]["scaleTargetRef"]
            targets.add((ref["kind"], ref["name"]))
            if h["spec"].get("minReplicas", 1) < min_replicas:
                errors.append(f'HorizontalPodAutoscaler/{h["metadata"]["name"]}: minReplicas below {min_replicas}')
        for w in by_kind.get("Deployment", []):
            if (w["metadata"]["labels"] or {}).get("app.kubernetes.io/part-of") == "cogov" and (
                "Deployment",
                w["metadata"]["name"],
            ) not in targets:
                errors.append(f'Deployment/{w["metadata"]["name"]}: no autoscaler')
    return errors


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rendered")
    parser.add_argument("--min-replicas", type=int, default=0)
    args = parser.parse_args()
    with open(args.rendered, encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    errors = check(docs, args.min_replicas)
    for e in errors:
        print(f"{args.rendered}: {e}", file=sys.stderr)
    print(f"{args.rendered}: {len(docs)} resources, {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
