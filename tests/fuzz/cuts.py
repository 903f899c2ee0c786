"""Real pastes cut where their authors might have cut them, and every absence the reports then claim, read.

A paste is often a part of what a node shows: the author kept the lines that looked relevant, with or without a
"..." where the cut is. A report may then say a thing is absent (no endpoints, not programmed, no local endpoint,
headless) only with the evidence of it in what is left. This campaign takes the shared dumps, the corpus' real
pastes and the bundled example, keeps a random run of each one's lines (3 to 80 of them, with "..." after it, on
both sides, or bare) or, one cut in four, the lines a grep for a word of it keeps (a chain's, a Service's name, an
address), reads it with `--all -o json` as users run it, and lists every finding of those codes
whose evidence the cut does not hold: for no-endpoints, a "has no endpoints" REJECT or a no-endpoint map
element or reject-chain; for no-local-endpoints, a "has no local endpoints" DROP or a drop element of a
no-endpoint map (kube-proxy writes those only for a Local policy). Anything else is a claim the cut cannot prove.
Four such claims were found and fixed this way (an ipvsadm listing ending at a virtual server's line, an
`nft list chain` block cut with "...", an `iptables -L` external chain cut after its masquerade rule, and the
trace's verdict for the first).

With ``--counts`` each Service's ENDPOINTS in the cut is also set against the whole paste's: a plain number
other than the whole's is a count the cut cannot prove (it should read "N+?"). A grep for an endpoint chain's name
shows its service chain's last, unconditional jump alone, the same line a one-endpoint Service's chain has: told
apart by the grep's word when its command is pasted (d3805a0), and without it by what such a grep leaves out (no
jump to the service chain, no line declaring it).

``python -m tests.fuzz.cuts --seed N --cases 400 [--counts]`` runs a campaign; tests/fuzz/test_cuts.py a fixed slice.
Cases are deterministic by seed and number.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import SHARED, svcpath

ROOT = Path(__file__).resolve().parents[2]
ABSENCE = ("no-endpoints", "service-not-programmed", "endpoint-not-programmed", "headless-service", "no-local-endpoints")
# what the cut must hold for a claim of that code to be seen, not inferred from what the cut left out
_PROOF = {"no-endpoints": ("has no endpoints", "reject-chain", "no-endpoint"),
          "no-local-endpoints": ("no local endpoints", "no-endpoint", '" : drop')}
_WORD = re.compile(r"KUBE-(?:SVC|SEP|EXT|SVL|FW|XLB)-[A-Z2-7]{16}|[a-z0-9-]+/[a-z0-9-]+(?::[a-z0-9-]+)?|\d+\.\d+\.\d+\.\d+")
# a Local-policy KUBE-EXT chain shown ("route LOCAL traffic ..." to the service chain) without the jump to KUBE-SVL that
# kube-proxy writes only when the node has a local endpoint: proof only in a whole table (a chain listed under its
# header may have been cut right there)
_LOCAL_EXT = "route LOCAL traffic for"


@dataclass(frozen=True, slots=True)
class Cut:
    source: Path
    first: int  # 1-based, inclusive
    last: int
    style: str  # "bare" | "dots" (a "..." after) | "dots-both" | "grep" (the lines holding ``word``)
    word: str = ""

    def text(self) -> str:
        if self.style == "grep":
            return "\n".join(x for x in self.source.read_text(encoding="utf-8", errors="replace").split("\n") if self.word in x) + "\n"
        lines = self.source.read_text(encoding="utf-8", errors="replace").split("\n")[self.first - 1:self.last]
        if self.style != "bare":
            lines = (["..."] if self.style == "dots-both" else []) + lines + ["..."]
        return "\n".join(lines) + "\n"


def pastes() -> list[Path]:
    found = sorted(ROOT.glob("tests/corpus/*.txt")) + sorted(ROOT.glob("kubectl_svcpath/examples/*/*.txt"))
    if SHARED.exists():
        found += sorted(p for p in SHARED.glob("dumps/*") if p.suffix not in (".md", ".json"))
    return found


def make_cut(index: int, seed: int, sources: list[Path]) -> Cut | None:
    rng = random.Random(f"cuts:{seed}:{index}")
    source = rng.choice(sources)
    n = source.read_text(encoding="utf-8", errors="replace").count("\n") + 1
    if n < 8:
        return None
    first = rng.randrange(1, n - 3)
    last = min(n, first + 2 + rng.randrange(1, 79))
    if rng.random() < 0.25:  # `… | grep WORD`: a chain's name, a Service's, an address
        words = sorted(set(_WORD.findall(source.read_text(encoding="utf-8", errors="replace"))))
        if words:
            return Cut(source, 0, 0, "grep", rng.choice(words))
    return Cut(source, first, last, rng.choice(["bare", "dots", "dots-both"]))


def claims(cut: Cut, directory: Path) -> list[str]:
    """The absences the report of ``cut`` claims without the evidence in it, one line each."""
    text = cut.text()
    path = directory / "cut.txt"
    path.write_text(text)
    code, out, _ = svcpath("--rules-file", str(path), "--all", "-o", "json")
    if code not in (0, 3):
        return []  # (refused with one error line: the hostile-input campaign holds those)
    found = []
    for item in json.loads(out).get("items", []):
        svc = item.get("service") or {}
        for f in item.get("findings", []):
            if f["code"] in ABSENCE and not any(p in text for p in _PROOF.get(f["code"], ())) \
                    and not (f["code"] == "no-local-endpoints" and _LOCAL_EXT in text and "COMMIT" in text):
                where = f"grep {cut.word!r}" if cut.style == "grep" else f"lines {cut.first}-{cut.last}, {cut.style}"
                found.append(f"{f['code']} of {svc.get('namespace')}/{svc.get('name')}: {f['message'][:140]} [{cut.source.name} {where}]")
    return found


def endpoint_counts(path: Path) -> dict[tuple[str, ...], str]:
    """The --all table's ENDPOINTS cell of each Service (by NODE, NAMESPACE, NAME), as users see it."""
    code, out, _ = svcpath("--rules-file", str(path), "--all", "-o", "wide")
    lines = out.split("\n\n")[0].splitlines() if code in (0, 3) else []
    if not lines or not lines[0].startswith(("NAMESPACE", "NODE")):
        return {}
    starts = [m.start() for m in re.finditer(r"\S+", lines[0])]
    heads = lines[0].split()
    cells = {}
    for line in lines[1:]:
        row = dict(zip(heads, (line[a:b].strip() for a, b in zip(starts, [*starts[1:], None], strict=True)), strict=True))
        cells[(row.get("NODE", ""), row["NAMESPACE"], row["NAME"])] = row["ENDPOINTS"]
    return cells


def miscounts(cut: Cut, directory: Path, whole: dict[tuple[str, ...], str]) -> list[str]:
    """The Services whose ENDPOINTS the cut states as a number other than the whole paste's: a count the cut
    cannot prove (it should read "N+?")."""
    path = directory / "cut.txt"
    path.write_text(cut.text())
    found = []
    for key, shown in endpoint_counts(path).items():
        full = whole.get(key)
        if key[1] != "?" and full and shown.isdigit() and full.isdigit() and shown != full:
            where = f"grep {cut.word!r}" if cut.style == "grep" else f"lines {cut.first}-{cut.last}, {cut.style}"
            found.append(f"{key[1]}/{key[2]}: ENDPOINTS {shown} in the cut, {full} in the whole paste [{cut.source.name} {where}]")
    return found


def run(seed: int, cases: int, counts: bool = False) -> list[str]:
    sources = pastes()
    out: list[str] = []
    wholes: dict[Path, dict[tuple[str, ...], str]] = {}
    with tempfile.TemporaryDirectory(prefix="svcpath-cuts-") as tmp:
        for i in range(cases):
            cut = make_cut(i, seed, sources)
            if cut is None:
                continue
            out += [f"case {i}: {c}" for c in claims(cut, Path(tmp))]
            if counts:
                if cut.source not in wholes:
                    wholes[cut.source] = endpoint_counts(cut.source)
                out += [f"case {i}: {c}" for c in miscounts(cut, Path(tmp), wholes[cut.source])]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cases", type=int, default=400)
    ap.add_argument("--counts", action="store_true", help="also compare each Service's ENDPOINTS with the whole paste's")
    args = ap.parse_args()
    found = run(args.seed, args.cases, args.counts)
    for line in found:
        print(line)
    print(f"seed {args.seed}: {args.cases} cuts, {len(found)} claims the cuts cannot prove"
          + ("" if args.counts else " (absences without their evidence in the cut)"))
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
