"""Whether the config file exposes a secret: an LLM ``api_key`` in a file every local user can read.

Any user on the NAS could then spend the key (and read what the provider returns). The
package writes the file 0600 (0640 where OMV's web UI must read it); this check is for a
file an admin edited or copied by hand. Group-readable is accepted (that is OMV's case).
"""

from __future__ import annotations

import os
import stat


def _holds_key(config) -> bool:
    providers = config.get_path("assist.providers", []) or []
    return any(isinstance(p, dict) and p.get("api_key") for p in providers)


def world_readable_secret(config) -> str | None:
    """A one-line problem naming the file, its mode and the fix; None when nothing is exposed."""
    path = getattr(config, "path", None)
    if not path or not _holds_key(config):
        return None
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return None
    if not mode & stat.S_IROTH:
        return None
    return (f"{path} holds an LLM api_key but every user can read it (mode {mode:04o}): "
            f"run 'chmod 600 {path}' (or 640 with group root) — or move the key to an api_key_file")
