"""``policyengine lint``: check policies, tests, profiles, config and waivers.

Messages look like ruff's: ``path:line:col: CODE message``, sorted, one per
line. Codes are documented in ``docs/lint.md``. Errors (E...) make lint exit
1; warnings (W...) do not.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from policyengine.errors import PolicyEngineError
from policyengine.lintcodes import (
    E000,
    E001,
    E110,
    W201,
    W202,
    W203,
    W204,
    W205,
    W206,
    W207,
    W208,
    W209,
    W210,
    severity_of,
)


@dataclass(frozen=True, slots=True, order=True)
class LintMessage:
    path: str
    line: int
    col: int
    code: str
    message: str
    severity: str = "error"  # error | warning

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.code} {self.message}"


def from_error(error: PolicyEngineError) -> LintMessage:
    loc = error.location
    message = error.message
    if loc is not None and loc.field:
        message = f"field '{loc.field}': {message}"
    if loc is not None and loc.record is not None:
        message = f"record {loc.record}: {message}"
    return LintMessage(
        path=loc.file if loc else "<input>",
        line=(loc.line if loc and loc.line else 1),
        col=(loc.col if loc and loc.col else 1),
        code=error.code or E000,
        message=message,
        severity=severity_of(error.code or E000),
    )


def lint_paths(
    paths: Sequence[Path],
    *,
    require_tests: bool = True,
    against: Path | None = None,
    use_cache: bool = False,
) -> list[LintMessage]:
    """Lint every file under ``paths``; return messages sorted by position."""
    from policyengine.policy.loader import kind_of_file, load_definitions
    from policyengine.testing import test_file_for

    messages: list[LintMessage] = []
    policy_inputs: list[Path] = []
    others: list[tuple[str, Path]] = []
    for path in paths:
        if path.is_dir():
            policy_inputs.append(path)
            for candidate in sorted(path.rglob("*.y*ml")):
                kind = kind_of_file(candidate)
                if kind in ("config", "waivers", "profile"):
                    others.append((kind, candidate))
        elif not path.exists():
            messages.append(LintMessage(str(path), 1, 1, E001, "no such file or folder"))
        else:
            kind = kind_of_file(path)
            if kind == "policy":
                policy_inputs.append(path)
            else:
                others.append((kind, path))
    definitions, errors = (
        load_definitions(policy_inputs, use_cache=use_cache) if policy_inputs else ([], [])
    )
    messages.extend(from_error(e) for e in errors)
    known = {d.id for d in definitions}
    # with single files (pre-commit passes only the changed ones) the superseded
    # policy usually lives in a file that is not being linted
    whole_library = any(p.is_dir() for p in policy_inputs)
    installed = _installed_connectors()
    for definition in definitions:
        messages.extend(
            _quality(
                definition, require_tests=require_tests, test_file=test_file_for(definition.file)
            )
        )
        messages.extend(_remediation_keys(definition, installed))
        messages.extend(_actions(definition, installed))
        messages.extend(_negative_durations(definition))
        for other in definition.supersedes if whole_library else ():
            if other not in known or other == definition.id:
                loc = definition.location("supersedes")
                messages.append(
                    LintMessage(
                        definition.file,
                        loc.line or 1,
                        loc.col or 1,
                        W207,
                        f"{definition.id} supersedes {other}, which is not a loaded policy",
                        "warning",
                    )
                )
    # Test files are checked (and run) by `policyengine test`; lint only asks that
    # they exist (W201), which keeps the pre-commit hook instant.
    for kind, path in others:
        if kind == "config":
            messages.extend(_lint_config(path, definitions))
        elif kind == "profile":
            messages.extend(_lint_profile(path, definitions))
        elif kind == "waivers":
            messages.extend(_lint_waivers(path, against))
    return sorted(set(messages))


def _quality(definition: object, *, require_tests: bool, test_file: Path) -> Iterable[LintMessage]:
    from policyengine.policy.loader import PolicyDefinition

    assert isinstance(definition, PolicyDefinition)

    loc = definition.location("id")
    line, col = loc.line or 1, loc.col or 1
    if require_tests and not test_file.exists():
        yield LintMessage(
            definition.file,
            line,
            col,
            W201,
            f"{definition.id} has no tests (expected {test_file.name})",
            "warning",
        )
    for name in sorted(set(definition.params) - definition.used_params):
        p = definition.location("params", name)
        yield LintMessage(
            definition.file,
            p.line or line,
            p.col or col,
            W202,
            f"parameter {name!r} is never used",
            "warning",
        )
    for field_name in ("description", "rationale"):
        if not getattr(definition, field_name):
            yield LintMessage(
                definition.file,
                line,
                col,
                W203,
                f"{definition.id} has no {field_name}",
                "warning",
            )
    if not definition.references:
        yield LintMessage(
            definition.file, line, col, W204, f"{definition.id} has no references", "warning"
        )
    if not definition.frameworks:
        yield LintMessage(
            definition.file,
            line,
            col,
            W205,
            f"{definition.id} has no framework mapping",
            "warning",
        )


def _negative_durations(definition: object) -> Iterable[LintMessage]:
    """W208: ``older_than: "-30d"`` (directly or through a parameter) is ``expires_within: 30d``."""
    from policyengine.policy.loader import PolicyDefinition

    assert isinstance(definition, PolicyDefinition)

    def walk(node: object, where: tuple[object, ...]) -> Iterable[tuple[tuple[object, ...], str]]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "older_than":
                    arg = value
                    if isinstance(arg, str) and arg.startswith("$"):
                        arg = definition.params.get(arg[1:])
                    if isinstance(arg, str) and arg.strip().startswith("-"):
                        yield (*where, key), arg.strip()
                else:
                    yield from walk(value, (*where, key))
        elif isinstance(node, list):
            for i, item in enumerate(node):
                yield from walk(item, (*where, i))

    for section in ("match", "require"):
        for where, arg in walk(getattr(definition, section), (section,)):
            loc = definition.location(*where)
            yield LintMessage(
                definition.file,
                loc.line or 1,
                loc.col or 1,
                W208,
                f"older_than {arg!r} points into the future: write "
                f"{{expires_within: {arg.lstrip('-')}}}",
                severity_of(W208),
            )


def _installed_connectors() -> frozenset[str]:
    from policyengine.connector import installed_names

    return installed_names()


def _actions(definition: object, installed: frozenset[str]) -> Iterable[LintMessage]:
    """E110 / W210: ``actions:`` checked against the installed connectors' actions.

    Connector classes are imported only for a policy that has actions.
    """
    from policyengine.policy.loader import PolicyDefinition

    assert isinstance(definition, PolicyDefinition)
    if not definition.actions:
        return
    from policyengine.errors import UsageError
    from policyengine.remediate.registry import actions_for, param_problems

    for connector, refs in sorted(definition.actions.items()):
        loc = definition.location("actions", connector)
        at = (definition.file, loc.line or 1, loc.col or 1)
        try:
            offered = actions_for(connector) if connector in installed else {}
        except UsageError as exc:
            yield LintMessage(*at, E110, exc.message)
            continue
        if not offered:
            why = "is not installed" if connector not in installed else "offers no actions"
            yield LintMessage(*at, W210, f"actions for {connector!r}: it {why}", "warning")
            continue
        for i, (name, params) in enumerate(refs):
            where = definition.location("actions", connector, i)
            here = (definition.file, where.line or at[1], where.col or at[2])
            action = offered.get(name)
            if action is None:
                known = ", ".join(sorted(offered))
                yield LintMessage(
                    *here, E110, f"{connector} has no action {name!r} (actions: {known})"
                )
                continue
            if definition.resource not in action.spec.kinds:
                kinds = ", ".join(sorted(action.spec.kinds))
                yield LintMessage(
                    *here,
                    E110,
                    f"{connector} action {name} applies to {kinds}, not {definition.resource}",
                )
            for problem in param_problems(action, params):
                yield LintMessage(*here, E110, f"{connector} action {name}: {problem}")


def _remediation_keys(definition: object, installed: frozenset[str]) -> Iterable[LintMessage]:
    """W209: a remediation key no installed connector provides (a typo, or a missing plug-in).

    The built-in library is exempt: it carries remediation for the connectors
    being written beside it (entra, github, google).
    """
    from policyengine.policy.loader import PolicyDefinition, builtin_policy_dir

    assert isinstance(definition, PolicyDefinition)
    if Path(definition.file).resolve().is_relative_to(builtin_policy_dir().resolve()):
        return
    for key in sorted(set(definition.remediation) - installed - {"default"}):
        import difflib

        close = difflib.get_close_matches(key, installed, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        loc = definition.location("remediation", key)
        yield LintMessage(
            definition.file,
            loc.line or 1,
            loc.col or 1,
            W209,
            f"remediation key {key!r} names no installed connector{hint}; "
            f"installed: {', '.join(sorted(installed)) or 'none'}",
            "warning",
        )


def _lint_config(path: Path, definitions: Sequence[object]) -> list[LintMessage]:
    from policyengine.api import load_policy_set
    from policyengine.config import load_config

    try:
        config = load_config(path)
        if definitions:
            from policyengine.policy.policyset import PolicySet, check_overrides

            policy_set = PolicySet(list(definitions))  # type: ignore[arg-type]
            policy_set.add_overrides(
                config.policy_overrides,
                file=str(path),
                positions=config.positions,
                prefix=("policies",),
            )
            check_overrides(policy_set)
            return [_warning_message(w, W206) for w in policy_set.warnings]
        load_policy_set(config=config)
    except PolicyEngineError as exc:
        return [from_error(exc)]
    return []


def _lint_profile(path: Path, definitions: Sequence[object]) -> list[LintMessage]:
    from policyengine.policy.policyset import PolicySet, check_overrides, load_profile

    policy_set = PolicySet(list(definitions))  # type: ignore[arg-type]
    try:
        load_profile(str(path), policy_set)
        check_overrides(policy_set)
    except PolicyEngineError as exc:
        return [from_error(exc)]
    return [_warning_message(w, W206) for w in policy_set.warnings] if definitions else []


def _lint_waivers(path: Path, against: Path | None = None) -> list[LintMessage]:
    """Waiver checks; with ``against`` (a saved --format json result) also orphans (W304)."""
    import datetime as dt

    from policyengine.lint_waivers import lint_waivers
    from policyengine.policy.duration import format_timestamp

    # the horizon comes from policyengine.yaml next to the waivers (or the current folder)
    max_days = 90
    for candidate in (path.parent / "policyengine.yaml", Path("policyengine.yaml")):
        if candidate.is_file():
            try:
                from policyengine.config import load_config

                max_days = load_config(candidate).waiver_max_days
            except PolicyEngineError:
                pass
            break
    result = None
    if against is not None:
        import orjson

        from policyengine.findings.model import Result

        try:
            result = Result.from_dict(orjson.loads(against.read_bytes()))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            return [
                LintMessage(str(against), 1, 1, E001, f"not a saved --format json result: {exc}")
            ]
    found = lint_waivers(
        path,
        resources_or_result=result,
        max_days=max_days,
        now=format_timestamp(dt.datetime.now(dt.UTC)),
    )
    return [
        m
        if isinstance(m, LintMessage)
        else LintMessage(m.path, m.line, m.col, m.code, m.message, m.severity)
        for m in found
    ]


def _warning_message(text: str, code: str) -> LintMessage:
    where, _, message = text.partition(": ")
    file, _, line = where.rpartition(":")
    return LintMessage(
        file or where, int(line) if line.isdigit() else 1, 1, code, message, "warning"
    )
