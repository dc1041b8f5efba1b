"""Account type rules of the LDAP connector: the kit's grammar with every condition.

A directory has DNs and servicePrincipalNames, so all of ``spn``, ``name``,
``ou``, ``dn`` and ``attr`` apply (see
:mod:`policyengine.connector.account_types` for the grammar and defaults).

>>> rule = parse_type_rule("break_glass:name=^bg-")
>>> infer_type((rule,), name="bg-admin", dn="uid=bg-admin,dc=x", has_spn=False, attrs={})
'break_glass'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from policyengine.connector.account_types import (
    ALL_CONDITIONS,
    AccountFacts,
    TypeRule,
    default_rules,
)
from policyengine.connector.account_types import infer_type as _infer
from policyengine.connector.account_types import parse_type_rule as _parse_rule

__all__ = ["DEFAULT_RULES", "TypeRule", "infer_type", "parse_type_rule", "parse_type_rules"]

#: Used after the configured rules unless ``--no-default-type-rules``.
DEFAULT_RULES: tuple[TypeRule, ...] = default_rules(ALL_CONDITIONS)


def parse_type_rule(spec: object) -> TypeRule:
    """Parse one ``--type-rule`` (``TYPE:CONDITION`` or a mapping)."""
    return _parse_rule(spec, option="type_rule", connector="ldap")


def parse_type_rules(specs: Iterable[object]) -> tuple[TypeRule, ...]:
    return tuple(parse_type_rule(s) for s in specs)


def infer_type(
    rules: Iterable[TypeRule],
    *,
    name: str,
    dn: str,
    has_spn: bool,
    attrs: Mapping[str, Sequence[bytes]],
) -> str:
    """The type of the first matching rule, else ``human``."""
    return _infer(rules, AccountFacts(name, dn, has_spn, attrs))
