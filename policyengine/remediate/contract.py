"""The typed seam between remediation and a connector plug-in's actions.

A connector class registered under ``policyengine.connectors`` may provide
actions through four optional members (all or none; :func:`check_actions`
runs when the actions are first asked for and names what does not fit):

``credential_options: ClassVar[frozenset[str]]``
    The option names that are credentials (``client_id``,
    ``client_secret_env``, ``private_key_file``, ``username``...). The
    source's own values of these are dropped before acting; the
    ``remediation:`` mapping of the source's entry in ``policyengine.yaml``
    supplies them and may set nothing else.
``remediation_actions() -> Sequence[Action]`` (classmethod)
    The actions, stateless objects, each with an :class:`ActionSpec`.
``open_remediation(options, *, instance) -> RemediationSession`` (classmethod)
    A live, authenticated session with the *write* credentials; ``options``
    are the source's non-credential options plus the remediation mapping.
``containment(app, lookup) -> Containment`` (classmethod, may be absent)
    What ``policyengine respond --app`` plans for a rogue app of this source.

An action never sees a collection credential, never stores a secret in its
facts (a plan and the history hold them), and its ``apply`` is idempotent:
applied to a target already in the wanted state it returns
``Outcome(changed=False)``.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from policyengine.errors import UsageError

#: JSON-able facts about a target (a plan and the history store them verbatim).
Facts = Mapping[str, Any]
#: A resource record from a snapshot (model fields plus ``raw``).
Record = Mapping[str, Any]

#: Parameter types an action may declare (checked by lint and before planning).
PARAM_TYPES = ("string", "integer", "boolean", "strings")


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One typed parameter of an action (``actions: {salesforce: {freeze_user: {...}}}``)."""

    name: str
    type: str  # one of PARAM_TYPES
    help: str
    required: bool = False
    default: Any = None
    #: allowed values of a string parameter (empty: any)
    choices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """What an action is, for lint, plans, docs and reviewers."""

    name: str  # ``revoke_oauth_tokens``: lowercase, digits, _
    summary: str  # one line: what it does to the target
    #: model kinds of finding resources this action accepts (``account``, ``integration``...)
    kinds: frozenset[str]
    #: the model kind of what it acts on (``account`` for freeze_user on an integration finding)
    target_kind: str
    params: tuple[ParamSpec, ...] = ()
    reversible: bool = True
    #: how to undo it (by hand or with which API): shown in the plan
    undo: str = ""
    #: the least privilege the write credential needs for this action (docs/remediate.md)
    permissions: str = ""


@dataclass(frozen=True, slots=True)
class Target:
    """One thing an action will change, with the facts that must still hold at apply time.

    ``facts`` come from the snapshot when planning and are compared with a
    live re-read (:meth:`Action.read_target`) before acting. ``account``
    names the account the action affects (a user frozen, a token's owner), so
    apply can refuse break-glass and collecting identities.
    """

    kind: str
    id: str
    name: str
    facts: Facts = field(default_factory=dict)
    account: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What ``apply`` did: ``changed=False`` means the target was already done."""

    changed: bool
    after: Facts
    detail: str = ""


class ResourceLookup(Protocol):
    """Resources of the finding's source snapshot, for actions that follow references."""

    def get(self, kind: str, resource_id: str) -> Record | None: ...

    def all(self, kind: str) -> Iterable[Record]: ...


@runtime_checkable
class RemediationSession(Protocol):
    """A live, authenticated connection with the write credentials."""

    def protected_identities(self) -> frozenset[str]:
        """Ids and names of the collecting and the writing identity: never acted on."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class Action(Protocol):
    """One action of a connector (stateless; the session carries the connection)."""

    spec: ActionSpec

    def targets(
        self, resource: Record, lookup: ResourceLookup, params: Mapping[str, Any]
    ) -> Sequence[Target]:
        """The targets for a finding on ``resource`` (offline, from the snapshot)."""
        ...

    def read_target(self, session: Any, target: Target, params: Mapping[str, Any]) -> Facts | None:
        """The target's current facts, live; None when it no longer exists."""
        ...

    def preconditions_hold(self, facts: Facts | None, planned: Target) -> bool:
        """Whether the live ``facts`` still justify acting (else: skipped as drift)."""
        ...

    def apply(self, session: Any, target: Target, params: Mapping[str, Any]) -> Outcome:
        """Make the change; idempotent (already done: ``changed=False``)."""
        ...


@dataclass(frozen=True, slots=True)
class PlannedStep:
    """One step of a containment plan: an action on a target."""

    action: str
    target: Target
    params: Mapping[str, Any] = field(default_factory=dict)
    why: str = ""


@dataclass(frozen=True, slots=True)
class Containment:
    """``respond --app``: the steps to apply and what must be done by hand."""

    steps: tuple[PlannedStep, ...]
    manual: tuple[str, ...] = ()


def facts_match(facts: Facts | None, planned: Target, keys: Iterable[str] | None = None) -> bool:
    """The usual precondition: the target exists and ``keys`` of its facts are unchanged."""
    if facts is None:
        return False
    names = tuple(keys) if keys is not None else tuple(planned.facts)
    return all(facts.get(k) == planned.facts.get(k) for k in names)


_MEMBERS: dict[str, bool] = {  # member -> must be a classmethod
    "remediation_actions": True,
    "open_remediation": True,
}


def has_actions(plugin: type) -> bool:
    """Whether a connector class offers actions at all."""
    return inspect.getattr_static(plugin, "remediation_actions", None) is not None


def check_actions(name: str, plugin: type) -> dict[str, Action]:
    """The connector's actions by name, or UsageError saying what does not fit."""
    where = f"connector {name!r} ({getattr(plugin, '__module__', '?')})"
    for member, is_classmethod in _MEMBERS.items():
        raw = inspect.getattr_static(plugin, member, None)
        if raw is None:
            raise UsageError(f"{where}: offers actions but has no {member}()")
        if is_classmethod and not isinstance(raw, classmethod | staticmethod):
            raise UsageError(f"{where}: {member}() must be a classmethod")
    credentials = getattr(plugin, "credential_options", None)
    if not isinstance(credentials, frozenset) or not credentials:
        raise UsageError(f"{where}: credential_options must be a non-empty frozenset")
    found: dict[str, Action] = {}
    for action in plugin.remediation_actions():  # type: ignore[attr-defined]
        spec = getattr(action, "spec", None)
        if not isinstance(spec, ActionSpec):
            raise UsageError(f"{where}: action {action!r} has no ActionSpec 'spec'")
        for method in ("targets", "read_target", "preconditions_hold", "apply"):
            if not callable(getattr(action, method, None)):
                raise UsageError(f"{where}: action {spec.name!r} has no {method}()")
        bad = [p.name for p in spec.params if p.type not in PARAM_TYPES]
        if bad:
            raise UsageError(f"{where}: action {spec.name!r} parameter types of {bad} unknown")
        if spec.name in found:
            raise UsageError(f"{where}: action {spec.name!r} declared twice")
        found[spec.name] = action
    return found
