"""Secrets that must never live in the repository.

A secret comes from its environment variable when set; otherwise from a file
under the var/ directory, generated on first use with `secrets` and readable
by its owner only. Deleting the file rotates the secret.
"""

import os
import secrets
from pathlib import Path


def read_or_create_secret(*, env_var: str, path: Path, nbytes: int = 50) -> str:
    value = os.environ.get(env_var, "").strip()
    if value:
        return value
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    value = secrets.token_urlsafe(nbytes)
    # Write a private temporary file, then link it into place: linking fails if
    # another process got there first, and nobody ever reads a half-written file.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(value)
    try:
        os.link(tmp, path)
    except FileExistsError:
        value = path.read_text(encoding="ascii").strip()
    finally:
        tmp.unlink()
    return value
