"""Account type inference: human, service, shared or break_glass.

A directory does not say what an account is for, so the type is inferred
from rules, first match wins; an account no rule matches is ``human``.
A rule is ``TYPE:CONDITION``:

- ``TYPE:spn`` - the account has a servicePrincipalName;
- ``TYPE:name=REGEX`` - the account name (sAMAccountName / uid) matches;
- ``TYPE:ou=DN`` - the account's DN is under DN (case-insensitive);
- ``TYPE:dn=REGEX`` - the account's DN matches;
- ``TYPE:attr=ATTR=REGEX`` - some value of attribute ATTR matches
  (the attribute must be one the connector reads, or mapped).

Configured rules come first; the defaults (:data:`DEFAULT_RULES`) follow
unless ``--no-default-type-rules`` is given.

>>> rule = parse_type_rule("break_glass:name=^bg-")
>>> infer_type((rule,), name="bg-admin", dn="uid=bg-admin,dc=x", has_spn=False, attrs={})
'break_glass'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from policyengine.errors import UsageError
from policyengine.model.kinds import ACCOUNT_TYPES
from policyengine.policy.regexsafety import Pattern, compile_regex

_MAX_PATTERN = 500  # a configured pattern is short; bounds the regex the user can give us


@dataclass(frozen=True, slots=True)
class TypeRule:
    """One inference rule: accounts matching ``condition`` get ``type``."""

    type: str
    condition: str  # spn | name | ou | dn | attr
    value: str = ""
    attribute: str = ""
    pattern: Pattern | None = None

    def matches(
        self, *, name: str, dn: str, has_spn: bool, attrs: Mapping[str, list[bytes]]
    ) -> bool:
        if self.condition == "spn":
            return has_spn
        if self.condition == "ou":
            low = dn.lower()
            return low.endswith("," + self.value) or low == self.value
        assert self.pattern is not None
        if self.condition == "name":
            return bool(self.pattern.search(name))
        if self.condition == "dn":
            return bool(self.pattern.search(dn))
        for value in attrs.get(self.attribute) or ():
            if self.pattern.search(value.decode("utf-8", "replace")):
                return True
        return False


def _compile(pattern: str, spec: str) -> Pattern:
    if len(pattern) > _MAX_PATTERN:
        raise UsageError(f"ldap: type rule {spec!r}: pattern longer than {_MAX_PATTERN}")
    try:
        return compile_regex(pattern, ignore_case=True)
    except ValueError as exc:
        raise UsageError(f"ldap: type rule {spec!r}: {exc}") from None


def parse_type_rule(spec: str | Mapping[str, Any]) -> TypeRule:
    """Parse ``TYPE:CONDITION`` (or a mapping ``{type: T, spn: true | name: RE | ou: DN ...}``)."""
    if isinstance(spec, Mapping):
        spec = _mapping_to_spec(spec)
    if not isinstance(spec, str) or ":" not in spec:
        raise UsageError(f"ldap: type rule {spec!r}: expected TYPE:CONDITION")
    type_, _, cond = spec.partition(":")
    type_ = type_.strip()
    if type_ not in ACCOUNT_TYPES:
        raise UsageError(
            f"ldap: type rule {spec!r}: type must be one of {', '.join(ACCOUNT_TYPES)}"
        )
    kind, _, value = cond.partition("=")
    kind = kind.strip()
    if kind == "spn" and not value:
        return TypeRule(type_, "spn")
    if kind == "ou" and value:
        return TypeRule(type_, "ou", value=",".join(p.strip() for p in value.lower().split(",")))
    if kind in ("name", "dn") and value:
        return TypeRule(type_, kind, value=value, pattern=_compile(value, spec))
    if kind == "attr" and "=" in value:
        attr, _, pattern = value.partition("=")
        return TypeRule(type_, "attr", attribute=attr.strip(), pattern=_compile(pattern, spec))
    raise UsageError(
        f"ldap: type rule {spec!r}: condition must be spn, name=REGEX, ou=DN, dn=REGEX "
        "or attr=ATTR=REGEX"
    )


def _mapping_to_spec(rule: Mapping[str, Any]) -> str:
    type_ = rule.get("type")
    conds = [k for k in rule if k != "type"]
    if len(conds) != 1:
        raise UsageError(f"ldap: type rule {dict(rule)!r}: give 'type' and exactly one condition")
    key = conds[0]
    value = rule[key]
    if key == "spn":
        return f"{type_}:spn"
    if key == "attr" and isinstance(value, Mapping) and len(value) == 1:
        ((attr, pattern),) = value.items()
        return f"{type_}:attr={attr}={pattern}"
    return f"{type_}:{key}={value}"


def parse_type_rules(specs: Iterable[str | Mapping[str, Any]]) -> tuple[TypeRule, ...]:
    return tuple(parse_type_rule(s) for s in specs)


#: Used after the configured rules unless disabled. Naming conventions that
#: are common enough to be a fair default; documented in docs/connectors/ldap.md.
DEFAULT_RULES: tuple[TypeRule, ...] = parse_type_rules(
    (
        r"break_glass:name=^(bg|breakglass|break-glass|emergency)([-_.]|$)",
        r"service:spn",
        r"service:name=^(svc|srv|service|sa|app)[-_.]",
        r"service:dn=,ou=(service accounts|services|service|serviceaccounts),",
        r"shared:name=^(shared|team|generic)[-_.]",
        r"shared:dn=,ou=(shared accounts|shared),",
    )
)


def infer_type(
    rules: Iterable[TypeRule],
    *,
    name: str,
    dn: str,
    has_spn: bool,
    attrs: Mapping[str, list[bytes]],
) -> str:
    """The type of the first matching rule, else ``human``."""
    for rule in rules:
        if rule.matches(name=name, dn=dn, has_spn=has_spn, attrs=attrs):
            return rule.type
    return "human"
