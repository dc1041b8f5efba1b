"""Typed readers for connector options: one rule per kind of value, one message shape.

Options arrive keyed by argparse ``dest`` name, from the command line or a
``policyengine.yaml`` instance; both go through :class:`Options`, so a bad
value is the same one-line usage error (``okta: option 'timeout' must be
...``) wherever it came from.

>>> o = Options("acme", {"page_size": 50, "url": "https://acme.example"},
...             known=frozenset({"page_size", "url"}))
>>> o.integer("page_size", 100, low=1, high=500), o.url("url")
(50, 'https://acme.example')
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from policyengine.errors import UsageError
from policyengine.policy.regexsafety import Pattern, compile_regex
from policyengine.urls import refuse_userinfo

#: a configured pattern is short; bounds what a user can hand the regex engine
MAX_PATTERN = 500


def option_names(add_arguments: Callable[[argparse.ArgumentParser], None]) -> frozenset[str]:
    """The ``dest`` names an ``add_arguments(parser)`` function defines."""
    parser = argparse.ArgumentParser(add_help=False)
    add_arguments(parser)
    return frozenset(action.dest for action in parser._actions)


def refuse_unknown_options(
    connector: str, options: Mapping[str, object], known: frozenset[str]
) -> None:
    """A typo in policyengine.yaml (``pasword_env``) is a usage error naming the key."""
    unknown = sorted(set(options) - known)
    if unknown:
        import difflib

        close = difflib.get_close_matches(unknown[0], known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise UsageError(
            f"{connector}: unknown option {unknown[0]!r}{hint}; known: {', '.join(sorted(known))}"
        )


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses: the only hosts plain http may reach."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def option_str(
    connector: str, options: Mapping[str, object], key: str, *, required: bool = False
) -> str | None:
    """A string option; empty is absent; the wrong type is a usage error naming the key."""
    return Options(connector, options).string(key, required=required)


@dataclass(frozen=True, slots=True)
class SecretRef:
    """Where a secret is: an environment variable or a file. Never the value itself."""

    env: str | None
    file: str | None

    def read(self, what: str) -> str:
        """The secret (registered for redaction); UsageError naming the variable or file."""
        from policyengine.secrets import read_secret

        return read_secret(env=self.env, file=self.file, what=what)


class Options:
    """One connector's options with typed readers; every error names connector and key."""

    def __init__(
        self,
        connector: str,
        values: Mapping[str, object],
        *,
        known: frozenset[str] | None = None,
    ) -> None:
        if known is not None:
            refuse_unknown_options(connector, values, known)
        self.connector = connector
        self.values = values

    def error(self, key: str, problem: str) -> UsageError:
        return UsageError(f"{self.connector}: option '{key}' {problem}")

    def present(self, key: str) -> bool:
        return self.values.get(key) not in (None, "")

    def string(self, key: str, *, required: bool = False) -> str | None:
        """A string; empty is absent."""
        value = self.values.get(key)
        if value is None or value == "":
            if required:
                raise self.error(key, "is required")
            return None
        if not isinstance(value, str):
            raise self.error(key, f"must be a string, got {type(value).__name__}")
        return value

    def required_str(self, key: str) -> str:
        value = self.string(key, required=True)
        assert value is not None  # required=True raised otherwise
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        value = self.string(key) or default
        if value not in choices:
            raise self.error(key, f"must be one of {', '.join(choices)}")
        return value

    def integer(self, key: str, default: int, *, low: int, high: int) -> int:
        """An integer from ``low`` to ``high`` (a boolean is not an integer)."""
        value = self.values.get(key, default)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.error(key, f"must be an integer from {low} to {high}")
        return value

    def number(
        self, key: str, default: float, *, low: float, high: float, positive: bool = False
    ) -> float:
        """A number from ``low`` to ``high``; ``positive`` excludes ``low`` itself."""
        value = self.values.get(key, default)
        if value is None:
            return default
        number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
        if number is None or not low <= number <= high or (positive and number == low):
            bound = f"greater than {low:g}" if positive else f"from {low:g}"
            raise self.error(key, f"must be a number {bound} to {high:g}, got {value!r}")
        return float(number)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.values.get(key, default)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, got {value!r}")
        return value

    def strings(self, key: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        """A list of strings; one string is a list of one; absent or empty is ``default``."""
        value = self.values.get(key)
        if value is None or value == [] or value == ():
            return default
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list | tuple) or not all(isinstance(v, str) for v in items):
            raise self.error(key, "must be a list of strings")
        return tuple(items)

    def paths(self, key: str) -> tuple[str, ...]:
        """A path or a list of paths (strings or ``os.PathLike``); absent is empty."""
        value = self.values.get(key)
        if value is None:
            return ()
        items = [value] if isinstance(value, str | os.PathLike) else value
        if not isinstance(items, list | tuple) or not all(
            isinstance(v, str | os.PathLike) for v in items
        ):
            raise self.error(key, f"must be a path or a list of paths, got {value!r}")
        return tuple(os.fspath(v) for v in items)

    def entries(self, key: str) -> list[object]:
        """A list of anything (rules given as strings or mappings); one value is a list of one."""
        value = self.values.get(key)
        if value is None:
            return []
        if isinstance(value, list | tuple):
            return list(value)
        if isinstance(value, str | Mapping):
            return [value]
        raise self.error(key, "must be a list")

    def url(
        self, key: str, *, required: bool = True, root: str = "", example: str = "https://HOST"
    ) -> str:
        """An https URL (see :func:`check_https_url`); empty when absent and not required."""
        value = self.string(key, required=required) or ""
        return check_https_url(value, self.what(key), root=root, example=example) if value else ""

    def split_url(self, key: str, value: str) -> SplitResult:
        """``urlsplit`` with the no-userinfo rule and a readable error for a bad host or port."""
        return split_url(value, self.what(key))

    def what(self, key: str) -> str:
        return f"{self.connector}: option '{key}'"

    def regex(self, key: str, *, ignore_case: bool = False) -> Pattern | None:
        """A pattern compiled with RE2 (linear time); RE2's reason when it cannot compile."""
        text = self.string(key)
        if text is None:
            return None
        return compile_pattern(text, self.what(key), ignore_case=ignore_case)

    def secret(self, env_key: str, file_key: str) -> SecretRef | None:
        """Where a secret is kept (``*_env`` / ``*_file``; the file wins), None when neither."""
        env, file = self.string(env_key), self.string(file_key)
        return SecretRef(env, file) if env or file else None


def split_url(value: str, what: str) -> SplitResult:
    """``urlsplit`` after the no-userinfo rule; a bad host or port is a UsageError."""
    refuse_userinfo(value, what)
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises for a port that is not a number or out of range
    except ValueError as exc:  # e.g. a [bracketed] host that is not an IP address
        raise UsageError(f"{what}: {value!r}: {exc}") from None
    return parts


def check_https_url(value: str, what: str, *, root: str = "", example: str = "https://HOST") -> str:
    """``value`` without a trailing slash: https (plain http to loopback only), no credentials,
    no query; ``root`` (``"org"``) refuses a path too. ``what`` starts the error message."""
    parts = split_url(value, what)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UsageError(f"{what}: {value!r} is not an https:// URL (expected {example})")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise UsageError(
            f"{what}: plain http is refused for {parts.hostname} (only loopback test servers "
            "may use it); use https://"
        )
    if parts.query or parts.fragment:
        raise UsageError(f"{what}: {value!r} must not have a query or fragment")
    if root and parts.path.strip("/"):
        raise UsageError(f"{what}: give the {root} root only ({example}), got {value!r}")
    return value.rstrip("/")


def compile_pattern(text: str, what: str, *, ignore_case: bool = False) -> Pattern:
    """Compile a configured pattern with RE2; UsageError naming ``what`` otherwise."""
    if len(text) > MAX_PATTERN:
        raise UsageError(f"{what}: pattern longer than {MAX_PATTERN} characters")
    try:
        return compile_regex(text, ignore_case=ignore_case)
    except ValueError as exc:
        raise UsageError(f"{what}: {text!r} is not a valid regex: {exc}") from None
