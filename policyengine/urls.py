"""Checks every connector applies to the URLs it is given.

A URL never carries credentials: ``https://user:password@host`` would put the
password in config files, shell history, process listings and error messages.
Connectors take credentials from ``*_env`` / ``*_file`` options only.

>>> refuse_userinfo("https://acme.okta.com", "okta: option 'org_url'")
>>> refuse_userinfo("http://u:hunter2@h", "okta: option 'org_url'")
Traceback (most recent call last):
...
policyengine.errors.UsageError: okta: option 'org_url': a URL must not contain a user name or \
password (http://[REDACTED]@h); give credentials with the connector's *_env or *_file options
"""

from __future__ import annotations

from policyengine.errors import UsageError


def refuse_userinfo(url: str, what: str) -> None:
    """Raise a usage error (showing ``url`` redacted) if it has a ``user[:password]@`` part."""
    # Any '@' counts: `http://u:p/w@h` hides the password from urlsplit's netloc.
    if "@" in url:
        from policyengine.redact import redact_text

        raise UsageError(
            f"{what}: a URL must not contain a user name or password ({redact_text(url)}); "
            "give credentials with the connector's *_env or *_file options"
        )


def refuse_password(url: str, what: str) -> None:
    """Raise a usage error if ``url`` carries a password (``user:password@``); a user is fine.

    >>> refuse_password("postgresql://scanner@db:5432/pe", "history")
    >>> refuse_password("postgresql://scanner:pw@db/pe", "history")
    Traceback (most recent call last):
    ...
    policyengine.errors.UsageError: history: a URL must not contain a password \
(postgresql://[REDACTED]@db/pe); give it with history_password_env or history_password_file
    """
    rest = url.partition("://")[2]
    userinfo = rest.rpartition("@")[0] if "@" in rest else ""
    if ":" in userinfo or "@" in userinfo:
        from policyengine.redact import redact_text

        raise UsageError(
            f"{what}: a URL must not contain a password ({redact_text(url)}); "
            "give it with history_password_env or history_password_file"
        )
