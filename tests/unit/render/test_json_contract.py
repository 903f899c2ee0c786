"""docs/json-contract.md against what `-o json` prints: every field its tables list is there (unless the table says
when it is omitted) with a type the table allows, and every field a document holds is named in the contract.

Before this test the contract said `service.clusterIPs`, `externalIPs`, `loadBalancerIPs` and `ports[].protocol`
were never null, left out `service.externalOrLoadBalancerIPs`/`loadBalancerIPsSeen` and the `external` entry, and
listed 8 of the 11 `sources[].format` values, though the plugin printed them on the bundled example and the corpus;
and an endpoint whose chain a paste does not show was `"ip": "?"`, where README says not in the input is null in JSON."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubectl_svcpath.errors import Forbidden
from kubectl_svcpath.manifest import load_objects, snapshot_from_objects
from kubectl_svcpath.pipeline import api_only
from tests.conftest import svcpath

ROOT = Path(__file__).resolve().parents[3]
CONTRACT = (ROOT / "docs" / "json-contract.md").read_text()
EXAMPLE = ROOT / "kubectl_svcpath" / "examples" / "hello-service"
IPVS = ROOT / "tests" / "fixtures" / "ipvs"
CORPUS = ROOT / "tests" / "corpus"

# Each table of the contract: its heading -> the paths (from the document's root) its rows describe.
SECTIONS = {
    "## One Service on one node": ("ServicePath", [""]),
    "### `ports[]`": ("ServicePath", ["ports[]"]),
    "### `ports[].expected`": ("ServicePath", ["ports[].expected"]),
    "### `ports[].paths[]`": ("ServicePath", ["ports[].paths[]"]),
    "### endpoints": ("ServicePath", ["ports[].paths[].endpoints[]", "ports[].missingEndpoints[]", "ports[].leftOutEndpoints[]"]),
    "### `findings[]`": ("ServicePath", ["findings[]"]),
    "## One packet": ("PacketTrace", [""]),
    "### `traces[]`": ("PacketTrace", ["traces[]"]),
    "### `traces[].branches[]`": ("PacketTrace", ["traces[].branches[]"]),
}
TYPES: dict[str, tuple[type, ...]] = {"string": (str,), "int": (int,), "bool": (bool,), "float": (float, int), "number": (float, int),
                                      "object": (dict,), "endpoint": (dict,), "step": (dict,), "null": (type(None),)}


def _tables() -> dict[tuple[str, str], dict[str, tuple[set[str], bool, bool]]]:
    """(kind, path) -> {field: (types, is a list, may be omitted)} from the contract's tables."""
    out: dict[tuple[str, str], dict[str, tuple[set[str], bool, bool]]] = {}
    where: tuple[str, list[str]] | None = None
    for line in CONTRACT.splitlines():
        if line.startswith("#"):
            where = next((v for k, v in SECTIONS.items() if line.startswith(k)), None)
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip("|"))] if line.startswith("| `") else []
        if where is None or len(cells) < 3:
            continue
        kind, prefixes = where
        type_cell = cells[1].replace("\\", "").lower()
        optional = bool(re.search(r"omitted|absent|present only", type_cell))
        names = re.findall(r"`([A-Za-z.\[\]]+)`", cells[0])
        parts = type_cell.split(", ")
        positional = len(names) > 1 and len(parts) == len(names) and not optional
        kinds = parts if positional else [type_cell] * len(names)
        for name, cell in zip(names, kinds, strict=True):  # (`ip`, `port` | string, int: one type each)
            words = set(re.findall(r"\[?([a-z]+)\]?", cell.split(",")[0] if optional else cell)) & set(TYPES)
            assert words, f"contract row {cells[0]}: no type in {cells[1]!r}"
            is_list = name.endswith("[]") or "[" in cell
            for prefix in prefixes:
                parent, _, leaf = f"{prefix}.{name.removesuffix('[]')}".strip(".").rpartition(".")
                out.setdefault((kind, parent), {})[leaf] = (words, is_list, optional)
                if "." in name:  # (`service.type`: the root holds `service`)
                    out.setdefault((kind, prefix), {}).setdefault(f"{prefix}.{name}".strip(".").split(".")[0], ({"object"}, False, False))
    return out


def _objects(doc: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object of a document with its path ("ports[].paths[]")."""
    if isinstance(doc, dict):
        yield path, doc
        for k, v in doc.items():
            yield from _objects(v, f"{path}.{k}".strip("."))
    elif isinstance(doc, list):
        for v in doc:
            yield from _objects(v, f"{path}[]")


def _check(doc: dict[str, Any], tables: dict[tuple[str, str], dict[str, tuple[set[str], bool, bool]]], where: str) -> list[str]:
    problems = []
    for path, obj in _objects(doc):
        if path == "service.seen":
            continue  # (its keys are the described Service's fields: `port NAME`)
        fields = tables.get((doc["kind"], path))
        for key, value in obj.items():
            if value == "?":  # README: not in the input is `?` in tables, null in JSON (`chains[0]` "?" is documented)
                problems.append(f"{where}: {path}.{key} is \"?\", not null")
            if f"`{key}`" not in CONTRACT and f"`{key}[]`" not in CONTRACT and not (fields and key in fields):
                problems.append(f"{where}: {path}.{key} is not in docs/json-contract.md")
        if fields is None:
            continue
        extra = set(obj) - set(fields) - ({"traffic"} if path == "" else set())  # (traffic: its own section)
        problems += [f"{where}: {path}.{k} is not in its table in docs/json-contract.md" for k in sorted(extra)]
        for key, (types, is_list, optional) in fields.items():
            if key not in obj:
                if not optional:
                    problems.append(f"{where}: {path}.{key} is missing")
                continue
            allowed = tuple(t for w in types for t in TYPES[w])
            value = obj[key]
            if is_list and value is not None:
                ok = isinstance(value, list) and all(isinstance(v, allowed) and not (isinstance(v, bool) and bool not in allowed)
                                                     for v in value)
            else:
                ok = isinstance(value, allowed) and not (isinstance(value, bool) and bool not in allowed)
                ok = ok and (value is not None or "null" in types)
            if not ok:
                problems.append(f"{where}: {path}.{key} = {json.dumps(value)[:80]} is not {' or '.join(sorted(types))}"
                                f"{' (a list)' if is_list else ''}")
    return problems


def _documents() -> Iterator[tuple[str, dict[str, Any]]]:
    """-o json of the bundled example, the IPVS fixtures and every corpus paste, as users run them."""
    ex = str(EXAMPLE)
    runs = [["--example"], ["--example", "--trace", "node"], ["--example", "--trace", "outside"],
            ["default/hello-service", "--rules-file", f"{ex}/iptables-save-in-kube-proxy-pod.txt",
             "--since", f"{ex}/iptables-save-on-node-host.txt"],
            ["default/hello-service", "--rules-file", f"{IPVS}/hello-ipvsadm-Ln.txt", "--rules-file", f"{IPVS}/hello-ipset-list.txt",
             "--rules-file", f"{IPVS}/hello-iptables-save.txt", "--manifest", f"{ex}/manifest.yaml"],
            ["default/hello-service", "--rules-file", f"{IPVS}/hello-ipvsadm-Ln.txt", "--rules-file", f"{IPVS}/hello-iptables-save.txt",
             "--manifest", f"{ex}/manifest.yaml", "--trace", "outside"],
            ["--rules-file", f"{IPVS}/dns-ipvsadm-Ln.txt", "--manifest", f"{IPVS}/dns-services.yaml", "--all"]]
    runs += [["--rules-file", str(p), "--all"] + m for p in sorted(EXAMPLE.glob("*.txt")) + sorted(EXAMPLE.glob("*.json"))
             for m in ([], ["--manifest", f"{ex}/manifest.yaml"])]
    for facts in sorted(CORPUS.glob("*.facts.yaml")):
        f = yaml.safe_load(facts.read_text())
        pastes = f["paste"] if isinstance(f["paste"], list) else [f["paste"]]
        if any(str(p).startswith("shared:") for p in pastes):
            continue
        args = [a for p in pastes for a in ("--rules-file", str(CORPUS / p))] + ["--all"]
        runs.append(args + (["--lenient"] if f.get("lenient") else []) + (["--proxy-mode", f["proxy_mode_flag"]]
                                                                           if f.get("proxy_mode_flag") else []))
    for args in runs:
        code, out, _ = svcpath(*args, "-o", "json")
        if code in (0, 3):
            doc = json.loads(out)
            for item in doc["items"] if doc["kind"] == "ServicePathList" else [doc]:
                yield " ".join(args), item
    objects = load_objects((EXAMPLE / "manifest.yaml").read_text(), "manifest.yaml")
    report = api_only(snapshot_from_objects(objects, "default", "hello-service"), "cp01", Forbidden("pods/exec is forbidden"))
    yield "rules not read (exec forbidden)", report.to_dict()


@pytest.fixture(scope="module")
def documents() -> list[tuple[str, dict[str, Any]]]:
    return list(_documents())


def test_the_contract_has_a_table_for_each_part() -> None:
    tables = _tables()
    assert {("ServicePath", ""), ("ServicePath", "service"), ("ServicePath", "ports[].paths[].endpoints[]"),
            ("PacketTrace", "traces[].branches[]")} <= set(tables)
    assert tables[("ServicePath", "service")]["clusterIPs"] == ({"string", "null"}, True, False)
    assert tables[("ServicePath", "")]["excerpt"] == ({"bool"}, False, True)


def test_every_documented_field_is_printed_as_documented_and_every_printed_field_is_documented(documents) -> None:
    tables = _tables()
    assert len(documents) > 150 and {d["kind"] for _, d in documents} == {"ServicePath", "PacketTrace"}
    problems = [p for where, doc in documents for p in _check(doc, tables, where)]
    assert not problems, "\n".join(dict.fromkeys(problems))


def test_the_checker_sees_a_wrong_type_a_missing_and_an_undocumented_field(documents) -> None:
    tables = _tables()
    doc = json.loads(json.dumps(next(d for _, d in documents if d["kind"] == "ServicePath" and d["ports"][0]["paths"])))
    doc["ports"][0]["paths"][0]["packets"] = "2"
    del doc["service"]["fromAPI"]
    doc["ports"][0]["newField"] = 1
    problems = _check(doc, tables, "edited")
    assert any("ports[].paths[].packets = \"2\"" in p for p in problems), problems
    assert "edited: service.fromAPI is missing" in problems
    assert any("ports[].newField" in p for p in problems), problems


def test_sources_formats_are_the_ones_the_contract_lists(documents) -> None:
    row = next(line for line in CONTRACT.splitlines() if line.startswith("| `sources[]`"))
    listed = set(re.findall(r"\b([a-z]+(?:-[a-z]+)*)\b", row[row.index("`format` (") + 10:row.index("`kind`")]))
    printed = {s["format"] for _, d in documents for s in d.get("sources", [])}
    assert printed - listed == set()
