"""Run inside a lab node's namespace: what --local's IPVS reader (collect.local.add_ipvs) takes from this
namespace (its ipvsadm and `ipset list`, really run here), with the kernel's listing from a file (the lab's
kernel has no IPVS), analysed for hello-service; the report as JSON on stdout.

    python read_ipvs.py PROC_NET_IP_VS_FILE MANIFEST
"""

from __future__ import annotations

import json
import sys

from kubectl_svcpath import pipeline
from kubectl_svcpath.collect import local
from kubectl_svcpath.dump import Collection
from kubectl_svcpath.manifest import load_objects, snapshot_from_objects


def main(proc: str, manifest: str) -> None:
    coll = Collection(dumps=[])
    local.add_ipvs(coll, proc)
    parsed = pipeline.parse_collection(coll)
    with open(manifest, encoding="utf-8") as f:
        objects = load_objects(f.read(), manifest)
    report = pipeline.analyse(snapshot_from_objects(objects, "default", "hello-service"), parsed, coll)
    print(json.dumps(report.to_dict()))


if __name__ == "__main__":
    main(*sys.argv[1:3])
