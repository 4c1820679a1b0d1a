"""Action ids the case API has taken: each request's digest, so that an id reused with another
body is refused (409) and a retry with the same body gets the same answer, and so that polling
an id never sent is 404 rather than `pending` for ever."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any


def request_digest(body: Mapping[str, Any], staff_id: str) -> str:
    """SHA-256 of the request as parsed (defaults filled in, keys sorted) and who sent it."""
    text = json.dumps({"by": staff_id, "request": body}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()
