"""``-o json`` and ``-o yaml``: one document from Report.to_dict(); ASCII-escaped."""

from __future__ import annotations

import json
from typing import Any


def render_json(doc: Any) -> str:
    # ensure_ascii escapes DEL and C1 control bytes too, so hostile comments stay inert
    return json.dumps(doc, indent=2, ensure_ascii=True) + "\n"


def render_yaml(doc: Any) -> str:
    import yaml

    return str(yaml.safe_dump(doc, sort_keys=False, allow_unicode=False, default_flow_style=False))
