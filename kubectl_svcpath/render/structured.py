"""``-o json`` and ``-o yaml``: one document from Report.to_dict(); ASCII-escaped."""

from __future__ import annotations

import json
from enum import Enum
from typing import Any


def render_json(doc: Any) -> str:
    # ensure_ascii escapes DEL and C1 control bytes too, so hostile comments stay inert
    return json.dumps(doc, indent=2, ensure_ascii=True) + "\n"


def render_yaml(doc: Any) -> str:
    import yaml

    class Dumper(yaml.SafeDumper):
        """SafeDumper that writes str Enums (Mode, Severity) as their plain value, as json does."""

    Dumper.add_multi_representer(str, lambda d, v: d.represent_str(v.value if isinstance(v, Enum) else str.__str__(v)))
    return str(yaml.dump(doc, Dumper=Dumper, sort_keys=False, allow_unicode=False, default_flow_style=False))
