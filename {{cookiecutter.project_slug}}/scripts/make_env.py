"""Write `.env` from `.env.example` with fresh secrets; keep what an existing `.env` has.

Stdlib only, so cookiecutter's hook, copier's task and `make` can all run it before the
project's dependencies are installed. Values of keys whose example value is `generate` are
replaced by a new random secret; keys already present in `.env` are never touched, so the
script is safe to run again after `copier update` adds settings.
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

GENERATE = "generate"


def _key(line: str) -> str | None:
    stripped = line.strip()
    if not stripped or stripped.startswith("#") or "=" not in stripped:
        return None
    return stripped.split("=", 1)[0].strip()


def make_env(project: Path) -> list[str]:
    """Append to `.env` every key of `.env.example` it lacks; return the keys added."""
    example = project / ".env.example"
    target = project / ".env"
    existing = target.read_text("utf-8") if target.exists() else ""
    present = {key for line in existing.splitlines() if (key := _key(line))}
    added: list[str] = []
    lines: list[str] = []
    for line in example.read_text("utf-8").splitlines():
        key = _key(line)
        if key is None or key in present:
            continue
        value = line.split("=", 1)[1].strip()
        if value == GENERATE:
            value = secrets.token_urlsafe(48)
        lines.append(f"{key}={value}")
        added.append(key)
    if lines:
        prefix = existing if not existing or existing.endswith("\n") else existing + "\n"
        target.write_text(prefix + "\n".join(lines) + "\n", "utf-8")
        target.chmod(0o600)
    return added


if __name__ == "__main__":
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd()
    keys = make_env(root)
    if keys:
        print(f".env: wrote {', '.join(keys)}")
