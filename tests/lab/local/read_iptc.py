"""Run inside a lab namespace: print what collect/iptc_reader.py reads, as JSON (one object per rule).

    python read_iptc.py [-6] CHAIN [CHAIN ...]     # the Service chains to start from (-6: IPv6 tables)
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from kubectl_svcpath.collect.iptc_reader import read_legacy  # noqa: E402


def main() -> None:
    args = sys.argv[1:]
    family = 6 if args[:1] == ["-6"] else 4
    rs = read_legacy(set(args[1:] if family == 6 else args), family)
    chains = {f"{t.name} {c.name}": {"policy": c.policy, "packets": c.packets, "bytes": c.bytes, "n": len(c.rules)}
              for t in rs.tables.values() for c in t.chains.values()}
    rules = [asdict(r) for t in rs.tables.values() for r in t.rules()]
    print(json.dumps({"chains": chains, "rules": rules, "dumps": [asdict(d) for d in rs.dumps]}))


if __name__ == "__main__":
    main()
