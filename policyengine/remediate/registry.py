"""Find a connector's actions, check parameters, open a write session.

Actions live on the connector classes registered under
``policyengine.connectors`` (see :mod:`policyengine.remediate.contract`); a
connector without them simply has none. Classes are imported only when an
action is asked for, so ``lint`` of a library without ``actions:`` stays fast.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from policyengine.errors import ConfigError, Location, UsageError
from policyengine.remediate.contract import Action, ParamSpec, RemediationSession, check_actions


@cache
def actions_for(connector: str) -> dict[str, Action]:
    """The actions of the installed connector ``connector`` (empty when it has none).

    Raises UsageError when the connector is not installed or its actions do not fit.
    """
    from policyengine.connector import load
    from policyengine.remediate.contract import has_actions

    cls = load(connector)
    if not has_actions(cls):
        return {}
    return check_actions(connector, cls)


def find_action(connector: str, name: str) -> Action:
    """The action ``name`` of ``connector``, or UsageError listing the known ones."""
    actions = actions_for(connector)
    if name not in actions:
        known = ", ".join(sorted(actions)) or "none"
        raise UsageError(f"connector {connector!r} has no action {name!r} (actions: {known})")
    return actions[name]


def _type_ok(spec: ParamSpec, value: Any) -> bool:
    if spec.type == "string":
        return isinstance(value, str) and (not spec.choices or value in spec.choices)
    if spec.type == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if spec.type == "boolean":
        return isinstance(value, bool)
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def param_problems(action: Action, params: Mapping[str, Any]) -> list[str]:
    """What is wrong with ``params`` for ``action``: unknown names, wrong types, missing."""
    specs = {p.name: p for p in action.spec.params}
    problems = []
    for name, value in params.items():
        spec = specs.get(name)
        if spec is None:
            known = ", ".join(specs) or "none"
            problems.append(f"unknown parameter {name!r} (parameters: {known})")
        elif not _type_ok(spec, value):
            allowed = f" one of {list(spec.choices)}" if spec.choices else ""
            problems.append(f"parameter {name!r} must be a {spec.type}{allowed}, got {value!r}")
    problems += [
        f"parameter {p.name!r} is required"
        for p in specs.values()
        if p.required and p.name not in params
    ]
    return problems


def with_defaults(action: Action, params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` with the declared defaults filled in (what a plan records)."""
    out = {p.name: p.default for p in action.spec.params if p.default is not None}
    out.update(params)
    return dict(sorted(out.items()))


def write_options(instance: Any, config_file: str = "policyengine.yaml") -> dict[str, Any]:
    """The options a write session is built from: the source's minus credentials, plus
    its ``remediation:`` mapping (which may hold credential options only).

    ``instance`` is a :class:`policyengine.config.ConnectorInstance`. Raises
    ConfigError when there is no remediation mapping or it sets something else.
    """
    from policyengine.connector import load

    cls = load(instance.type)
    credentials: frozenset[str] = getattr(cls, "credential_options", frozenset())
    where = Location(config_file, instance.line, None, field=f"{instance.instance}.remediation")
    mapping = instance.remediation
    if not isinstance(mapping, Mapping) or not mapping:
        raise ConfigError(
            f"source {instance.instance!r} has no remediation: mapping with write credentials "
            f"({', '.join(sorted(credentials)) or 'the connector has no actions'}); "
            "the collection credentials are never used to act",
            where,
        )
    extra = sorted(set(mapping) - credentials)
    if extra:
        raise ConfigError(
            f"remediation: of {instance.instance!r} may set only credential options "
            f"({', '.join(sorted(credentials))}); not {', '.join(extra)}",
            where,
        )
    base = {k: v for k, v in instance.options.items() if k not in credentials}
    return {**base, **mapping}


def open_session(instance: Any, config_file: str = "policyengine.yaml") -> RemediationSession:
    """A write session for a configured source (``ConnectorInstance``)."""
    from policyengine.connector import load

    cls = load(instance.type)
    actions_for(instance.type)  # refuse a connector whose actions do not fit, before logging in
    session: RemediationSession = cls.open_remediation(  # type: ignore[attr-defined]
        write_options(instance, config_file), instance=instance.instance
    )
    return session


def identities_of(instance: Any) -> frozenset[str]:
    """Who a configured source logs in as, for collecting and for acting: the credential
    options that name an identity (``username``, ``client_id``, ``bind_dn``...), not the
    ``*_env`` / ``*_file`` ones that say where a secret is. Never acted on.
    """
    from policyengine.connector import load

    try:
        credentials: frozenset[str] = getattr(
            load(instance.type), "credential_options", frozenset()
        )
    except UsageError:
        return frozenset()
    found = set()
    for options in (instance.options, instance.remediation or {}):
        for key, value in options.items():
            if key in credentials and not key.endswith(("_env", "_file")) and value:
                found.add(str(value))
    return frozenset(found)
