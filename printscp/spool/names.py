"""AE titles turned into file names that stay where they are put.

An AE title may hold '/', '.', spaces and more (PS3.5 Table 6.2-1 only bars backslash and
control characters), and some come from the network. None may name a folder as given:
"../escaped" would write outside the output folder.
"""

from __future__ import annotations

import hashlib
import re

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def safe_name(title: str) -> str:
    """A folder name for `title`: itself when it is plain letters, digits, '_' and '-';
    otherwise the unsafe characters become '_' and a short hash of the title is added, so
    two titles that differ only there ("A/B", "A.B") never share a folder."""
    stripped = title.strip()
    cleaned = _UNSAFE.sub("_", stripped)
    if cleaned == stripped and cleaned:
        return cleaned
    digest = hashlib.sha256(stripped.encode("utf-8", "replace")).hexdigest()[:8]
    return f"{cleaned.strip('_') or 'AE'}-{digest}"
