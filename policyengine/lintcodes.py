"""The lint-code registry: every code lint (and the loaders it runs) can report.

One row per code: severity, what it means, and an example of the fix.
Modules name codes by these constants, never by literal strings, so a code
cannot be used without being documented; ``docs/lint.md``'s tables are
generated from :data:`CODES` (``policyengine docs lint``) and a test keeps
them current. Pure data: importing it costs nothing at ``lint`` start-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class LintCode:
    code: str
    severity: Severity
    #: where the docs group it
    area: Literal["policy", "test", "waiver"]
    what: str
    fix: str


CODES: dict[str, LintCode] = {}


def _code(code: str, severity: Severity, area: str, what: str, fix: str) -> str:
    assert code not in CODES, f"lint code {code} registered twice"
    CODES[code] = LintCode(code, severity, area, what, fix)  # type: ignore[arg-type]
    return code


def severity_of(code: str) -> Severity:
    """The severity of ``code``; an unregistered code is an error (and a bug)."""
    found = CODES.get(code)
    return found.severity if found is not None else "error"


# -- errors ---------------------------------------------------------------

E000 = _code(
    "E000",
    "error",
    "policy",
    "an error without a more specific code (an internal error while checking a file)",
    "report it with the file that caused it",
)
E001 = _code(
    "E001",
    "error",
    "policy",
    "the file cannot be read, is not UTF-8, is not valid YAML, is larger than 1 MiB, nests "
    "values deeper than 128 levels, or holds an impossible value (`2026-02-30`)",
    "fix the syntax at the position given",
)
E002 = _code(
    "E002",
    "error",
    "policy",
    'unsafe YAML: a tag (`!!python/object`), an anchor or alias (`&x`, `*x`: the "billion '
    'laughs" alias bomb), or a duplicate key',
    "write the value out; policies have no use for tags or aliases",
)
E100 = _code(
    "E100",
    "error",
    "policy",
    "a required field is missing, or an unknown field (with a did-you-mean)",
    "`severty: high` → `severity: high`",
)
E101 = _code(
    "E101",
    "error",
    "policy",
    "a field has the wrong type or a value outside its allowed set",
    "`severity: catastrophic` → one of critical, high, medium, low, info",
)
E102 = _code(
    "E102",
    "error",
    "policy",
    "a condition is not a mapping, or `all`/`any` is not a non-empty list",
    "`require: [enabled]` → `require: {enabled: true}`",
)
E103 = _code(
    "E103",
    "error",
    "policy",
    "a field path names a field the model does not have (did-you-mean), or is malformed",
    "`mfa.metods` → `mfa.methods`; source-specific attributes live under `raw.`",
)
E104 = _code(
    "E104",
    "error",
    "policy",
    "an unknown operator (did-you-mean), or an operator with no argument",
    "`{equals: true}` → `{eq: true}`",
)
E105 = _code(
    "E105",
    "error",
    "policy",
    "`$name` names a parameter the policy does not define, or an override names an unknown "
    "parameter",
    "add it to `params:` or fix the name",
)
E106 = _code(
    "E106",
    "error",
    "policy",
    "an operator's argument is invalid: a regex that [RE2](https://github.com/google/re2/wiki/Syntax)"
    " does not compile (the message gives RE2's reason: backreferences `\\1`, lookaround "
    "`(?=`/`(?!`/`(?<=`, possessive `a++`, a repeat above `{1000}`, a pattern over 1,000 "
    "characters), a duration that is not `90d`/`12h`/`15m`, a time operator (`older_than`, "
    "`newer_than`, `expires_within`) on a field that is not a timestamp, `count` without a "
    "whole number",
    "`matches: '^(a+)\\1$'` → `matches: '^(aa)+$'`; `(?!.*\\(expires )` → describe what *is* "
    "there (`\\S+$`)",
)
E107 = _code(
    "E107",
    "error",
    "policy",
    "two policies share an id",
    "ids are stable and unique: renumber the new one",
)
E108 = _code(
    "E108",
    "error",
    "policy",
    "a template (`message`, `remediation`) has an unbalanced brace or an empty `{}`, or a "
    "placeholder that is not a plain field path: attribute access (`{name.__class__}`, "
    "`{name.upper}`: a path going on past a scalar field), indexing (`{name[0]}`), a "
    "conversion or format spec (`{name!r}`, `{name:>9}`)",
    "write `{{` / `}}` for literal braces; only `{field}`, `{field.subfield}`, "
    "`{reference.field}`, `{list[*].field}` and `{$param}`",
)
E109 = _code(
    "E109",
    "error",
    "policy",
    "conditions nest deeper than 32 levels of `all`/`any`/`not`/`count: {where: ...}` (real "
    "policies nest 3 or 4; the generated code and the evidence recurse once per level)",
    "flatten: `not: {not: X}` is `X`, nested `all`s merge into one list",
)
T001 = _code(
    "T001",
    "error",
    "test",
    "a test file names a policy that was not loaded",
    "check `policy:` in the `.test.yaml`",
)
E301 = _code(
    "E301",
    "error",
    "waiver",
    "a waiver entry is invalid (missing or blank reason/owner, no selector, bad date)",
    "see [ci-gate.md](ci-gate.md)",
)
E302 = _code(
    "E302",
    "error",
    "waiver",
    "a waiver has no expiry",
    "every waiver expires: add `expires: YYYY-MM-DD`",
)
E303 = _code(
    "E303",
    "error",
    "waiver",
    "a waiver expires beyond the horizon (`waiver_max_days`, default 90)",
    "shorten it, or raise the horizon in `policyengine.yaml`",
)

E110 = _code(
    "E110",
    "error",
    "policy",
    "an `actions:` entry names an action the installed connector does not provide, one that "
    "does not apply to the policy's resource kind, or gives it unknown, mistyped or missing "
    "parameters",
    "fix the name or parameters: [remediate.md](remediate.md) lists each connector's actions",
)

# -- warnings -------------------------------------------------------------

W201 = _code(
    "W201",
    "warning",
    "policy",
    "a policy has no tests (`foo.yaml` without `foo.test.yaml`)",
    "add `foo.test.yaml` with a failing and a passing case",
)
W202 = _code(
    "W202",
    "warning",
    "policy",
    "a parameter is defined but never used",
    "use it as `$name`, or delete it from `params:`",
)
W203 = _code(
    "W203",
    "warning",
    "policy",
    "a policy has no `description` or no `rationale`",
    "say what it flags (`description:`) and why that matters (`rationale:`)",
)
W204 = _code(
    "W204",
    "warning",
    "policy",
    "a policy has no `references`",
    "`references: [https://...]` to the benchmark or vendor page it follows",
)
W205 = _code(
    "W205",
    "warning",
    "policy",
    "a policy has no `frameworks` mapping",
    '`frameworks: {nist-800-53: ["IA-2(1)"]}`',
)
W206 = _code(
    "W206",
    "warning",
    "policy",
    "a profile or `policyengine.yaml` overrides a policy that is not loaded",
    "fix the id, or drop the override",
)
W207 = _code(
    "W207",
    "warning",
    "policy",
    "`supersedes` names a policy that is not loaded (or the policy itself)",
    "fix the id in `supersedes:`",
)
W208 = _code(
    "W208",
    "warning",
    "policy",
    '`older_than` with a negative duration (the old way to say "within the next ..."); '
    "it still works",
    '`expires_at: {older_than: "-30d"}` → `expires_at: {expires_within: 30d}`',
)
W209 = _code(
    "W209",
    "warning",
    "policy",
    "a `remediation` key names no installed connector (a typo, or a plug-in that is not "
    "installed: `policyengine collect --help` lists the installed ones); the built-in library "
    "is exempt, it carries remediation for connectors being written",
    "fix the key, or install the connector that registers that name",
)
W210 = _code(
    "W210",
    "warning",
    "policy",
    "an `actions:` key names a connector that is not installed, or one that offers no actions, "
    "so the actions cannot be checked or applied",
    "fix the key, or install the connector plug-in that provides those actions",
)
W304 = _code(
    "W304",
    "warning",
    "waiver",
    "a waiver matches no finding (orphan): `policyengine lint waivers.yaml --against "
    "result.json` with a saved `--format json` result",
    "delete the waiver, or fix its selector",
)
W305 = _code(
    "W305",
    "warning",
    "waiver",
    "a waiver has expired and no longer waives anything",
    "delete it, or renew it with a new review",
)
W306 = _code(
    "W306",
    "warning",
    "waiver",
    "a waiver expires within 14 days",
    "fix the finding, or renew the waiver before it lapses",
)
