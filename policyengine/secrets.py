"""Read secrets from environment variables or files, never from config text.

Every secret read here is registered for redaction before it is returned.
"""

from __future__ import annotations

import os
from pathlib import Path

from policyengine.errors import UsageError
from policyengine.redact import register_secret


def read_secret(
    *, env: str | None = None, file: str | os.PathLike[str] | None = None, what: str
) -> str:
    """Return the secret named by ``env`` (a variable name) or ``file`` (a path).

    ``what`` names the secret in error messages (``"bind password"``); the
    value itself never appears in one.
    """
    if file:
        path = Path(file)
        try:
            value = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise UsageError(f"cannot read {what} from file {path}: {exc.strerror}") from None
        if not value:
            raise UsageError(f"{what} file {path} is empty")
    elif env:
        value = os.environ.get(env, "")
        if not value:
            raise UsageError(f"environment variable {env} (the {what}) is not set or empty")
    else:
        raise UsageError(f"no {what} given: pass an environment variable name or a file")
    register_secret(value)
    return value
