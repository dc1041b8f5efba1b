"""Bind policy definitions to a clock and parameters, and generate fast code.

:func:`compile_policy` turns one definition into condition trees and
templates with every constant pre-parsed (durations into cutoff timestamps,
regexes compiled, lists into sets). :class:`BoundPolicies` then emits, for
each resource kind, ONE Python function that checks every policy about that
kind::

    def check(r, X):
        hits = []
        if <match of policy 0>:
            M[0] += 1
            if not <require of policy 0>:
                hits.append(0)
        ...
        return hits

so the per-resource cost is a few dictionary reads and comparisons, with no
interpretation of the YAML structure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from policyengine.errors import PolicyError
from policyengine.lintcodes import E105, E108
from policyengine.policy.conditions import (
    All,
    CompileContext,
    Emitter,
    Leaf,
    Node,
    assign_not_provided,
    build,
    check_path,
    emit,
    not_provided,
)
from policyengine.policy.loader import PolicyDefinition
from policyengine.policy.template import Template, parse_template


@dataclass(slots=True)
class CompiledPolicy:
    definition: PolicyDefinition
    severity: str
    params: Mapping[str, Any]
    match: Node | None
    require: Node
    message: Template
    remediation: Mapping[str, Template]
    used_params: frozenset[str] = frozenset()

    @property
    def id(self) -> str:
        return self.definition.id

    def remediation_for(self, connector: str) -> Template:
        return (
            self.remediation.get(connector)
            or self.remediation.get("default")
            or next(iter(self.remediation.values()))
        )


def compile_policy(
    definition: PolicyDefinition,
    *,
    now: dt.datetime,
    params: Mapping[str, Any],
    severity: str | None = None,
) -> CompiledPolicy:
    """Compile ``definition`` with the clock ``now`` and effective ``params``."""
    ctx = CompileContext(
        file=definition.file,
        positions=definition.positions,
        now=now,
        params=params,
        kind=definition.resource,
    )
    prefix = definition.prefix
    kind = definition.resource
    match = build(definition.match, ctx, (*prefix, "match"), kind) if definition.match else None
    require = build(definition.require, ctx, (*prefix, "require"), kind)
    # a field the source does not provide leads to no finding: require holds, match does not
    assign_not_provided(require, True)
    if match is not None:
        assign_not_provided(match, False)

    def template(text: str, *where: Any) -> Template:
        yaml_path = (*prefix, *where)
        try:
            parsed = parse_template(text, lambda p: check_path(p, kind, ctx, yaml_path))
        except ValueError as exc:
            raise ctx.error(str(exc), yaml_path, E108) from None
        for part in parsed.parts:
            if isinstance(part, tuple) and part[0] == "param":
                if part[1] not in params:
                    raise ctx.error(f"template names unknown parameter ${part[1]}", yaml_path, E105)
                ctx.used_params.add(part[1])
        return parsed

    message = template(definition.message, "message")
    remediation = {
        key: template(
            text,
            "remediation",
            *(() if len(definition.remediation) == 1 and key == "default" else (key,)),
        )
        for key, text in definition.remediation.items()
    }
    return CompiledPolicy(
        definition=definition,
        severity=severity or definition.severity,
        params=params,
        match=match,
        require=require,
        message=message,
        remediation=remediation,
        used_params=frozenset(ctx.used_params),
    )


@dataclass(slots=True)
class BoundPolicies:
    """Compiled policies grouped by kind, with one generated checker per kind."""

    policies: list[CompiledPolicy]
    checkers: dict[str, Callable[[Mapping[str, Any], Any], list[int]]] = field(default_factory=dict)
    #: index into ``policies`` for each position a kind's checker reports
    by_kind: dict[str, list[int]] = field(default_factory=dict)
    #: resources matched (evaluated) per policy, filled by the checkers
    matched: list[int] = field(default_factory=list)
    source_code: dict[str, str] = field(default_factory=dict)
    #: the declared field names the checkers ask about (see use_not_provided)
    not_provided_names: frozenset[str] = frozenset()
    #: (kind, source_type) -> a checker without the policies that cannot match there
    _for_source_type: dict[tuple[str, str], Callable[[Mapping[str, Any], Any], list[int]]] = field(
        default_factory=dict
    )

    @classmethod
    def build(cls, policies: Sequence[CompiledPolicy]) -> BoundPolicies:
        bound = cls(list(policies))
        bound.matched = [0] * len(bound.policies)
        kinds: dict[str, list[int]] = {}
        for i, policy in enumerate(bound.policies):
            kinds.setdefault(policy.definition.resource, []).append(i)
        for kind, indexes in kinds.items():
            bound.by_kind[kind] = indexes
            bound.checkers[kind], bound.source_code[kind] = _generate(bound, indexes)
        return bound

    def use_not_provided(self, names: frozenset[str]) -> None:
        """Regenerate the checkers so that a missing field some source declares it cannot
        provide (``names``) is not applicable there (policyengine.model.provided); only
        when a snapshot declares one, and only leaves over those fields pay for it."""
        names = self.not_provided_names | names
        if names == self.not_provided_names:
            return
        self.not_provided_names = names
        self._for_source_type.clear()
        for kind, indexes in self.by_kind.items():
            self.checkers[kind], self.source_code[kind] = _generate(self, indexes, names)

    def checker_for(
        self, kind: str, source_type: str
    ) -> Callable[[Mapping[str, Any], Any], list[int]] | None:
        """The checker of ``kind`` for records whose ``source_type`` is ``source_type``.

        Most policies are for one connector (``match: {source_type: ldap}``); for a
        record of another, their match is false before anything else is read, so
        they are left out of this checker (it reports and counts exactly the same).
        """
        key = (kind, source_type)
        checker = self._for_source_type.get(key)
        if checker is None:
            indexes = self.by_kind.get(kind)
            if indexes is None:
                return None
            kept = [i for i in indexes if _may_match(self.policies[i], source_type)]
            if len(kept) == len(indexes):
                checker = self.checkers[kind]
            else:
                checker = _generate(self, kept, self.not_provided_names)[0]
            self._for_source_type[key] = checker
        return checker

    def reset_counts(self) -> None:
        for i in range(len(self.matched)):
            self.matched[i] = 0


def _may_match(policy: CompiledPolicy, source_type: str) -> bool:
    """False when ``policy``'s match needs another ``source_type`` (an eq/in on it)."""
    match = policy.match
    parts = match.parts if isinstance(match, All) else [match] if match is not None else []
    for part in parts:
        if (
            isinstance(part, Leaf)
            and part.path.text == "source_type"
            and part.op.name in ("eq", "in")
            and not part.op.test(source_type, part.arg)
        ):
            return False
    return True


def _generate(
    bound: BoundPolicies, indexes: list[int], np: frozenset[str] = frozenset()
) -> tuple[Callable[..., list[int]], str]:
    em = Emitter()
    lines = ["def check(r, X, G=G, T=T, K=K, N=N, M=M, P=P):", "    hits = []"]
    for i in indexes:
        policy = bound.policies[i]
        missing_passes = policy.definition.on_missing == "pass"
        match = emit(policy.match, em, False, np) if policy.match else "True"
        require = emit(policy.require, em, missing_passes, np)
        lines.append(f"    if {match}:")
        lines.append(f"        M[{i}] += 1")
        lines.append(f"        if not {require}:")
        lines.append(f"            hits.append({i})")
    lines.append("    return hits")
    source = "\n".join(lines) + "\n"
    namespace: dict[str, Any] = {
        "G": em.getters,
        "T": em.tests,
        "K": em.args,
        "N": em.nodes,
        "M": bound.matched,
        "P": not_provided,
    }
    try:
        code = compile(source, "<policyengine-generated>", "exec")
    except SyntaxError as exc:  # a bug in the generator, never user input
        raise PolicyError(f"internal error generating policy code: {exc}") from exc
    exec(code, namespace)
    return namespace["check"], source
