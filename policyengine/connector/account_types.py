"""Account type inference, one grammar for every connector: human, service, shared, break_glass.

A source rarely says what an account is for, so the type is inferred from
rules, first match wins; an account no rule matches is ``human``. A rule is
``TYPE:CONDITION`` (or the mapping ``{type: TYPE, CONDITION: VALUE}``):

- ``TYPE:name=REGEX`` - the account name (login, username, uid) matches;
- ``TYPE:attr=ATTR=REGEX`` - some value of the source attribute ATTR matches;
- ``TYPE:spn`` - the account has a servicePrincipalName (directories);
- ``TYPE:ou=DN`` - the account's DN is under DN, case-insensitive (directories);
- ``TYPE:dn=REGEX`` - the account's DN matches (directories).

A connector says which conditions its source has (``conditions=``); a rule
with another is refused naming the option. Configured rules come first;
:data:`DEFAULT_RULE_SPECS` follow unless ``default_type_rules: false``.
Patterns are RE2, case-insensitive.

>>> rule = parse_type_rule("break_glass:name=^bg-", option="type_rule", connector="ldap")
>>> infer_type((rule,), AccountFacts(name="bg-admin"))
'break_glass'
"""

from __future__ import annotations

from argparse import _ArgumentGroup
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from policyengine.connector.options import Options, compile_pattern
from policyengine.errors import UsageError
from policyengine.model.kinds import ACCOUNT_TYPES
from policyengine.policy.regexsafety import Pattern

ALL_CONDITIONS = frozenset({"name", "attr", "spn", "ou", "dn"})
#: what a SaaS account has: a login and profile attributes, no directory position
NAME_AND_ATTR = frozenset({"name", "attr"})

#: The one default service-account pattern (documented in docs/connectors/README.md).
DEFAULT_SERVICE_NAME = r"^(svc|srv|service|sa|app|api)[-_.]"

#: Used after the configured rules unless disabled. Naming conventions common
#: enough to be a fair default; a connector without DNs or SPNs skips those rules.
DEFAULT_RULE_SPECS: tuple[str, ...] = (
    r"break_glass:name=^(bg|breakglass|break-glass|emergency)([-_.@]|$)",
    r"service:spn",
    f"service:name={DEFAULT_SERVICE_NAME}",
    r"service:dn=,ou=(service accounts|services|service|serviceaccounts),",
    r"shared:name=^(shared|team|generic)[-_.]",
    r"shared:dn=,ou=(shared accounts|shared),",
)

_CONDITION_FORMS = {
    "name": "TYPE:name=REGEX",
    "attr": "TYPE:attr=ATTR=REGEX",
    "spn": "TYPE:spn",
    "ou": "TYPE:ou=DN",
    "dn": "TYPE:dn=REGEX",
}


@dataclass(frozen=True, slots=True)
class AccountFacts:
    """What rules look at: the connector fills what its source has."""

    name: str
    dn: str = ""
    has_spn: bool = False
    #: attribute name -> values (LDAP gives bytes, SaaS APIs strings)
    attrs: Mapping[str, Sequence[str | bytes]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TypeRule:
    """One inference rule: accounts matching ``condition`` get ``type``."""

    type: str
    condition: str  # spn | name | ou | dn | attr
    value: str = ""
    attribute: str = ""
    pattern: Pattern | None = None

    def applies(self, facts: AccountFacts) -> bool:
        if self.condition == "spn":
            return facts.has_spn
        if self.condition == "ou":
            low = facts.dn.lower()
            return bool(low) and (low.endswith("," + self.value) or low == self.value)
        assert self.pattern is not None  # name, dn and attr rules are compiled when parsed
        if self.condition == "name":
            return bool(self.pattern.search(facts.name))
        if self.condition == "dn":
            return bool(facts.dn) and bool(self.pattern.search(facts.dn))
        for value in facts.attrs.get(self.attribute) or ():
            text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
            if self.pattern.search(text):
                return True
        return False

    def matches(
        self,
        *,
        name: str,
        dn: str = "",
        has_spn: bool = False,
        attrs: Mapping[str, Sequence[str | bytes]] | None = None,
    ) -> bool:
        """:meth:`applies` with the facts as keywords."""
        return self.applies(AccountFacts(name, dn, has_spn, attrs or {}))


def parse_type_rule(
    spec: object,
    *,
    option: str,
    connector: str,
    conditions: frozenset[str] = ALL_CONDITIONS,
) -> TypeRule:
    """Parse ``TYPE:CONDITION`` or ``{type: T, name: RE | spn: true | ou: DN | ...}``."""
    where = f"{connector}: option '{option}'"
    text = _mapping_to_spec(spec, where) if isinstance(spec, Mapping) else spec
    forms = ", ".join(_CONDITION_FORMS[c] for c in sorted(conditions))
    if not isinstance(text, str) or ":" not in text:
        raise UsageError(f"{where}: {spec!r}: expected {forms}")
    type_, _, cond = text.partition(":")
    type_ = type_.strip()
    if type_ not in ACCOUNT_TYPES:
        raise UsageError(
            f"{where}: {text!r}: type must be one of {', '.join(ACCOUNT_TYPES)} "
            f"({type_!r} is not one of them)"
        )
    kind, _, value = cond.partition("=")
    kind = kind.strip()
    if kind not in conditions:
        raise UsageError(f"{where}: {text!r}: expected {forms}")
    rule_where = f"{where}: {text!r}"
    if kind == "spn" and not value:
        return TypeRule(type_, "spn")
    if kind == "ou" and value:
        return TypeRule(type_, "ou", value=",".join(p.strip() for p in value.lower().split(",")))
    if kind in ("name", "dn") and value:
        pattern = compile_pattern(value, rule_where, ignore_case=True)
        return TypeRule(type_, kind, value=value, pattern=pattern)
    if kind == "attr" and "=" in value:
        attr, _, text_pattern = value.partition("=")
        pattern = compile_pattern(text_pattern, rule_where, ignore_case=True)
        return TypeRule(type_, "attr", attribute=attr.strip(), pattern=pattern)
    raise UsageError(f"{where}: {text!r}: expected {forms}")


def _mapping_to_spec(rule: Mapping[object, object], where: str) -> str:
    type_ = rule.get("type")
    conds = [k for k in rule if k != "type"]
    if len(conds) != 1:
        raise UsageError(f"{where}: {dict(rule)!r}: give 'type' and exactly one condition")
    key = conds[0]
    value = rule[key]
    if key == "spn":
        return f"{type_}:spn"
    if key == "attr" and isinstance(value, Mapping) and len(value) == 1:
        ((attr, pattern),) = value.items()
        return f"{type_}:attr={attr}={pattern}"
    return f"{type_}:{key}={value}"


def parse_type_rules(
    specs: Iterable[object],
    *,
    option: str = "type_rule",
    connector: str,
    conditions: frozenset[str] = ALL_CONDITIONS,
) -> tuple[TypeRule, ...]:
    return tuple(
        parse_type_rule(s, option=option, connector=connector, conditions=conditions) for s in specs
    )


def default_rules(conditions: frozenset[str] = ALL_CONDITIONS) -> tuple[TypeRule, ...]:
    """The defaults a connector whose source has ``conditions`` can use."""
    return tuple(
        rule
        for rule in parse_type_rules(DEFAULT_RULE_SPECS, option="default", connector="defaults")
        if rule.condition in conditions
    )


@dataclass(frozen=True, slots=True)
class TypeRules:
    """A connector's rules: the configured ones, and the defaults when they are on."""

    configured: tuple[TypeRule, ...] = ()
    defaults: tuple[TypeRule, ...] = ()

    def configured_type(self, facts: AccountFacts) -> str | None:
        return first_match(self.configured, facts)

    def default_type(self, facts: AccountFacts) -> str | None:
        return first_match(self.defaults, facts)

    def infer(self, facts: AccountFacts) -> str:
        return infer_type(self, facts)

    def __iter__(self) -> Iterator[TypeRule]:
        """Configured rules first, then the defaults: the order they are tried in."""
        yield from self.configured
        yield from self.defaults


def add_type_rule_arguments(group: _ArgumentGroup, *, examples: str) -> None:
    """``--type-rule`` (repeatable) and ``--no-default-type-rules``, the same in every connector."""
    group.add_argument(
        "--type-rule",
        dest="type_rule",
        action="append",
        default=[],
        metavar="TYPE:COND",
        help=f"account type rule, e.g. {examples}; first match wins (docs/connectors/README.md)",
    )
    group.add_argument(
        "--no-default-type-rules",
        dest="default_type_rules",
        action="store_false",
        default=True,
        help="use only the configured rules (drop the documented defaults)",
    )


def read_type_rules(options: Options, *, conditions: frozenset[str]) -> TypeRules:
    """``type_rule`` (repeatable) and ``default_type_rules`` (default true) from ``options``."""
    configured = parse_type_rules(
        options.entries("type_rule"), connector=options.connector, conditions=conditions
    )
    use_defaults = options.boolean("default_type_rules", True)
    return TypeRules(configured, default_rules(conditions) if use_defaults else ())


def first_match(rules: Iterable[TypeRule], facts: AccountFacts) -> str | None:
    for rule in rules:
        if rule.applies(facts):
            return rule.type
    return None


def infer_type(rules: Iterable[TypeRule], facts: AccountFacts) -> str:
    """The type of the first matching rule, else ``human``."""
    return first_match(rules, facts) or "human"
