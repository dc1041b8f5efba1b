"""Waivers: accepted risk with an owner, a reason and an expiry date.

A waiver names a policy and either a resource selector (``kind``, ``source``,
``id``, ``name`` glob; every key given must match) or a finding fingerprint.
A waived finding stays in the result with ``waived: true`` and the waiver
attached; it never fails a gate. Expiry is judged against the evaluation
clock (``result.now``), never the wall clock: an expired waiver stops waiving
and says so, and one that expires within :data:`EXPIRY_WARNING_DAYS` is
warned about.

``expires: 2026-07-01`` means the waiver applies up to, not including,
2026-07-01T00:00:00Z (a timestamp may be given instead of a date).

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "waivers.yaml"
>>> _ = p.write_text(
...     "waivers:\\n"
...     "  - policy: PE-MFA-002\\n"
...     "    resource: {source: corp-ad, id: u9}\\n"
...     "    reason: hardware key on order\\n"
...     "    owner: secops@example.com\\n"
...     "    expires: 2026-07-01\\n"
... )
>>> ws = load_waivers(p)
>>> ws.waivers[0].policy, ws.waivers[0].expires
('PE-MFA-002', '2026-07-01T00:00:00Z')
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policyengine.errors import ConfigError, Location
from policyengine.findings.model import Finding, Result, WaiverStatus
from policyengine.lintcodes import E301, E302
from policyengine.model.kinds import KINDS

#: a waiver expiring within this many days of ``now`` is warned about
EXPIRY_WARNING_DAYS = 14
#: default maximum horizon of a waiver (``waiver_max_days`` in policyengine.yaml)
DEFAULT_MAX_DAYS = 90

_STR = {"type": "string", "empty": False}
_SELECTOR_SCHEMA: dict[str, Any] = {
    "kind": {"type": "string", "allowed": list(KINDS)},
    "source": _STR,
    "id": _STR,
    "name": _STR,
}
WAIVER_SCHEMA: dict[str, Any] = {
    "policy": {"type": "string", "required": True, "empty": False},
    # exactly one of resource / fingerprint (cerberus: required + excludes)
    "resource": {
        "type": "dict",
        "required": True,
        "excludes": "fingerprint",
        "schema": _SELECTOR_SCHEMA,
        "minlength": 1,
    },
    "fingerprint": {
        "type": "string",
        "required": True,
        "excludes": "resource",
        "regex": "^[0-9a-f]{32}$",
    },
    "reason": {"type": "string", "required": True, "empty": False},
    "owner": {"type": "string", "required": True, "empty": False},
    "ticket": {"type": ["string", "integer"]},
    "expires": {"type": ["date", "datetime", "string"], "required": True},
}


@dataclass(frozen=True, slots=True)
class Selector:
    """Which resources a waiver covers; ``None`` fields match anything."""

    kind: str | None = None
    source: str | None = None
    id: str | None = None
    name: str | None = None  # fnmatch glob, case-sensitive

    def matches(self, kind: str, source: str, rid: str, name: str) -> bool:
        return (
            (self.kind is None or self.kind == kind)
            and (self.source is None or self.source == source)
            and (self.id is None or self.id == rid)
            and (self.name is None or fnmatch.fnmatchcase(name, self.name))
        )

    def describe(self) -> str:
        parts = [f"{k}={v}" for k in ("kind", "source", "id", "name") if (v := getattr(self, k))]
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class Waiver:
    """One entry of ``waivers.yaml``."""

    policy: str
    reason: str
    owner: str
    #: ISO 8601 UTC timestamp from which the waiver no longer applies
    expires: str
    selector: Selector | None = None
    fingerprint: str | None = None
    ticket: str | None = None
    file: str | None = None
    line: int | None = None
    col: int | None = None

    def matches(self, finding: Finding) -> bool:
        """True when this waiver is about ``finding`` (whatever its expiry)."""
        if finding.policy_id != self.policy:
            return False
        if self.fingerprint is not None:
            return finding.fingerprint == self.fingerprint
        r = finding.resource
        return self.selector is not None and self.selector.matches(r.kind, r.source, r.id, r.name)

    def expired(self, now: str) -> bool:
        return _parse_ts(now) >= _parse_ts(self.expires)

    def expiring_soon(self, now: str, days: int = EXPIRY_WARNING_DAYS) -> bool:
        n = _parse_ts(now)
        return n < _parse_ts(self.expires) <= n + dt.timedelta(days=days)

    def beyond_horizon(self, now: str, max_days: int) -> bool:
        return _parse_ts(self.expires) > _parse_ts(now) + dt.timedelta(days=max_days)

    def where(self) -> str:
        return str(Location(self.file or "", self.line, self.col))

    def describe(self) -> str:
        target = (
            f"fingerprint {self.fingerprint}"
            if self.fingerprint
            else (self.selector.describe() if self.selector else "?")
        )
        return f"{self.policy} [{target}]"

    def status(self, now: str) -> WaiverStatus:
        return WaiverStatus(
            reason=self.reason,
            owner=self.owner,
            expires=self.expires,
            ticket=self.ticket,
            expired=self.expired(now),
            expiring_soon=self.expiring_soon(now),
            file=self.file,
            line=self.line,
        )


@dataclass(frozen=True, slots=True)
class WaiverProblem:
    """A waiver entry that does not validate (see :func:`parse_waivers`)."""

    message: str
    code: str
    file: str
    line: int | None
    col: int | None
    field: str | None = None

    def to_error(self) -> ConfigError:
        return ConfigError(
            self.message, Location(self.file, self.line, self.col, field=self.field), self.code
        )


@dataclass(frozen=True, slots=True)
class WaiverSet:
    """The waivers of one file, indexed so that matching a finding is a few lookups.

    Index: fingerprint waivers by fingerprint, selectors with an ``id`` by
    (policy, id), the rest (kind/source/name selectors) by policy. A million
    findings against thousands of waivers stays linear in the findings.
    """

    waivers: tuple[Waiver, ...] = ()
    path: Path | None = None
    max_days: int = DEFAULT_MAX_DAYS
    _index: Mapping[tuple[str, ...], tuple[tuple[int, Waiver], ...]] = field(
        default_factory=dict, repr=False
    )
    #: policy -> (one regex of all its name globs, those waivers): one match per finding
    _globs: Mapping[str, tuple[re.Pattern[str], tuple[tuple[int, Waiver], ...]]] = field(
        default_factory=dict, repr=False
    )

    @classmethod
    def of(
        cls, waivers: Iterable[Waiver], path: Path | None = None, max_days: int = DEFAULT_MAX_DAYS
    ) -> WaiverSet:
        items = tuple(waivers)
        index: dict[tuple[str, ...], list[tuple[int, Waiver]]] = {}
        globs: dict[str, list[tuple[int, Waiver]]] = {}
        glob_patterns: dict[str, list[str]] = {}  # the name globs of ``globs``, in its order
        for i, w in enumerate(items):
            if w.fingerprint is not None:
                key: tuple[str, ...] = ("fp", w.fingerprint)
            elif w.selector is not None and w.selector.id is not None:
                key = ("id", w.policy, w.selector.id)
            elif w.selector is not None and w.selector.name is not None:
                globs.setdefault(w.policy, []).append((i, w))
                glob_patterns.setdefault(w.policy, []).append(w.selector.name)
                continue
            else:
                key = ("policy", w.policy)
            index.setdefault(key, []).append((i, w))
        compiled = {
            policy: (
                re.compile("|".join(f"(?:{fnmatch.translate(g)})" for g in glob_patterns[policy])),
                tuple(ws),
            )
            for policy, ws in globs.items()
        }
        return cls(items, path, max_days, {k: tuple(v) for k, v in index.items()}, compiled)

    def __len__(self) -> int:
        return len(self.waivers)

    def matching(self, finding: Finding) -> list[Waiver]:
        """Waivers about ``finding``, in file order."""
        get = self._index.get
        candidates = (
            *get(("fp", finding.fingerprint), ()),
            *get(("id", finding.policy_id, finding.resource.id), ()),
            *get(("policy", finding.policy_id), ()),
        )
        glob = self._globs.get(finding.policy_id)
        if glob is not None and glob[0].match(finding.resource.name):
            candidates = (*candidates, *glob[1])
        if not candidates:
            return []
        return [w for _, w in sorted(candidates, key=lambda c: c[0]) if w.matches(finding)]


# --------------------------------------------------------------------------- loading


def load_waivers(path: Path, *, max_days: int = DEFAULT_MAX_DAYS) -> WaiverSet:
    """Load and validate ``waivers.yaml``; raise :class:`ConfigError` (file:line:col).

    Every problem is reported at once in the message of the one error; the
    first problem's location is the error's location.
    """
    waivers, problems = parse_waivers(path, max_days=max_days)
    if problems:
        first = problems[0].to_error()
        if len(problems) > 1:
            rest = "; ".join(f"{p.line}:{p.col}: {p.message}" for p in problems[1:4])
            more = f" (and {len(problems) - 4} more)" if len(problems) > 4 else ""
            first = ConfigError(f"{first.message}; also {rest}{more}", first.location, first.code)
        raise first
    return waivers


def parse_waivers(
    path: Path, *, max_days: int = DEFAULT_MAX_DAYS
) -> tuple[WaiverSet, list[WaiverProblem]]:
    """Lenient load for ``lint``: the valid waivers plus a problem per invalid entry.

    A file that is not YAML at all (or unsafe YAML) still raises ConfigError.
    """
    from policyengine.policy.yamlload import load_yaml_file

    file = str(path)
    try:
        data, positions = load_yaml_file(path, ConfigError)
    except ValueError as exc:  # a scalar YAML cannot build, e.g. the date 2026-02-30
        raise ConfigError(f"invalid value: {exc}", Location(file), E301) from None

    def at(p: tuple[Hashable, ...]) -> tuple[int | None, int | None]:
        while p:
            if p in positions:
                return positions[p]
            p = p[:-1]
        return positions.get((), (1, 1))

    if data is None:
        return WaiverSet.of((), path, max_days), []
    if not isinstance(data, Mapping) or set(data) - {"waivers"}:
        line, col = at(())
        extra = sorted(str(k) for k in set(data) - {"waivers"}) if isinstance(data, Mapping) else []
        msg = (
            f"unknown top-level key(s) {', '.join(extra)}; the file holds only 'waivers:'"
            if extra
            else "a waivers file is a mapping with one key, 'waivers:' (a list)"
        )
        return WaiverSet.of((), path, max_days), [WaiverProblem(msg, E301, file, line, col)]
    entries = data.get("waivers") or []
    if not isinstance(entries, list):
        line, col = at(("waivers", "<value>"))
        return WaiverSet.of((), path, max_days), [
            WaiverProblem("'waivers' must be a list", E301, file, line, col, "waivers")
        ]
    good: list[Waiver] = []
    problems: list[WaiverProblem] = []
    for i, entry in enumerate(entries):
        base = ("waivers", i)
        line, col = at(base)
        if not isinstance(entry, Mapping):
            problems.append(WaiverProblem("a waiver must be a mapping", E301, file, line, col))
            continue
        errs = _validate(entry)
        for epath, message, on_value in _explain(errs):
            key = (*base, *epath)
            eline, ecol = (
                at((*key, "<value>")) if on_value and (*key, "<value>") in positions else at(key)
            )
            fld = ".".join(str(p) for p in epath) or None
            no_expiry = message.endswith("is required") or message == "null value not allowed"
            code = E302 if epath == ("expires",) and no_expiry else E301
            if code == E302:
                message = "waiver has no expiry date ('expires: YYYY-MM-DD' is required)"
            problems.append(WaiverProblem(message, code, file, eline, ecol, fld))
        if errs:
            continue
        expires, why = _normalise_expiry(entry["expires"])
        if expires is None:
            eline, ecol = at((*base, "expires", "<value>"))
            problems.append(WaiverProblem(why, E301, file, eline, ecol, "expires"))
            continue
        sel = entry.get("resource")
        ticket = entry.get("ticket")
        good.append(
            Waiver(
                policy=entry["policy"],
                reason=entry["reason"],
                owner=entry["owner"],
                expires=expires,
                selector=Selector(**sel) if sel else None,
                fingerprint=entry.get("fingerprint"),
                ticket=str(ticket) if ticket is not None else None,
                file=file,
                line=line,
                col=col,
            )
        )
    return WaiverSet.of(good, path, max_days), problems


def _validate(entry: Mapping[str, Any]) -> list[tuple[tuple[Hashable, ...], str]]:
    from policyengine.policy.schema import flatten_errors, validator_for

    validator = validator_for(WAIVER_SCHEMA)
    errors = (
        []
        if validator.validate(dict(entry), normalize=False)
        else list(flatten_errors(validator.errors, ()))
    )
    # an accepted risk needs someone accountable and a reason: whitespace is neither
    for name in ("reason", "owner"):
        value = entry.get(name)
        if isinstance(value, str) and not value.strip():
            errors = [e for e in errors if e[0] != (name,)]
            errors.append(((name,), f"'{name}' must not be blank"))
    return sorted(errors, key=lambda e: [str(p) for p in e[0]])


def _explain(
    errors: list[tuple[tuple[Hashable, ...], str]],
) -> Iterator[tuple[tuple[Hashable, ...], str, bool]]:
    """Cerberus messages -> (path, message a user can act on, points at the value?)."""
    one_of = {("resource",), ("fingerprint",)}
    required = {p for p, m in errors if m == "required field"}
    excluded = {p for p, m in errors if "must not be present with" in m}
    if one_of <= required:
        yield (), "a waiver needs 'resource' (a selector) or 'fingerprint'", False
    if one_of <= excluded:
        yield ("fingerprint",), "a waiver has 'resource' or 'fingerprint', not both", False
    for path, message in errors:
        if path in one_of and (one_of <= required or one_of <= excluded):
            continue
        field = str(path[-1]) if path else "?"
        if message == "required field":
            yield path, f"'{field}' is required", False
        elif message == "unknown field":
            allowed = _SELECTOR_SCHEMA if path[:1] == ("resource",) else WAIVER_SCHEMA
            yield path, f"unknown field '{field}'; allowed: {', '.join(allowed)}", False
        else:
            yield path, message, True


def _normalise_expiry(value: Any) -> tuple[str | None, str]:
    """A YAML date, datetime or ISO string -> ``YYYY-MM-DDTHH:MM:SSZ`` (UTC)."""
    if isinstance(value, dt.datetime):
        stamp = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    elif isinstance(value, dt.date):
        stamp = dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    else:
        try:
            stamp = _parse_ts(str(value))
        except ValueError:
            return None, f"'expires' is not a date: {value!r} (write YYYY-MM-DD)"
    return _format_ts(stamp), ""


def _parse_ts(text: str) -> dt.datetime:
    """Parse an ISO 8601 date or timestamp; naive values are UTC (ValueError otherwise)."""
    from policyengine.policy.duration import parse_timestamp

    return parse_timestamp(text)


def _format_ts(stamp: dt.datetime) -> str:
    from policyengine.policy.duration import format_timestamp

    return format_timestamp(stamp.replace(microsecond=0))


# --------------------------------------------------------------------------- applying


def apply_waivers(result: Result, waivers: WaiverSet) -> Result:
    """Mark findings covered by a waiver; expiry is judged against ``result.now``.

    - an active waiver: ``waived=True`` and the waiver attached;
    - only expired waivers match: ``waived=False``, the waiver attached with
      ``expired=True``, and a warning;
    - an active waiver expiring within 14 days or beyond the horizon: a warning.

    Resolved findings (from ``diff``) are left alone: they count for nothing.
    A waiver already on a finding (e.g. from a saved result) is re-judged.
    Folded findings are judged one by one and folded again only where their
    dispositions agree (``policyengine.findings.fold``).
    """
    from policyengine.findings.fold import fold_result, unfold_result

    if not result.now:
        raise ConfigError("cannot judge waiver expiry: the result has no evaluation time")
    result = unfold_result(result)
    now = result.now
    findings: list[Finding] = []
    warned: set[tuple[str, Waiver]] = set()
    warnings: list[str] = list(result.warnings)

    def warn(kind: str, waiver: Waiver, text: str) -> None:
        if (kind, waiver) not in warned:  # one warning per waiver, not per finding
            warned.add((kind, waiver))
            warnings.append(text)

    # a waiver only ever matches findings of its own policy
    waived_policies = {w.policy for w in waivers.waivers}
    for f in result.findings:
        if f.change == "resolved":
            findings.append(f)
            continue
        matched = waivers.matching(f) if f.policy_id in waived_policies else []
        if not matched:
            findings.append(f.with_changes(waived=False, waiver=None) if f.waiver else f)
            continue
        active = [w for w in matched if not w.expired(now)]
        if active:
            w = active[0]
            if w.expiring_soon(now):
                warn(
                    "soon",
                    w,
                    f"{w.where()}: waiver {w.describe()} expires {w.expires[:10]} "
                    f"(within {EXPIRY_WARNING_DAYS} days of {now}); owner {w.owner}",
                )
            if w.beyond_horizon(now, waivers.max_days):
                warn(
                    "horizon",
                    w,
                    f"{w.where()}: waiver {w.describe()} expires {w.expires[:10]}, more than "
                    f"{waivers.max_days} days after {now} (the maximum horizon)",
                )
            findings.append(f.with_changes(waived=True, waiver=w.status(now)))
        else:
            w = matched[0]
            warn(
                "expired",
                w,
                f"{w.where()}: waiver {w.describe()} expired {w.expires[:10]} "
                f"(evaluated at {now}); its findings count again; owner {w.owner}",
            )
            findings.append(f.with_changes(waived=False, waiver=w.status(now)))
    return fold_result(
        Result(
            findings=tuple(findings),
            policies=result.policies,
            sources=result.sources,
            now=result.now,
            warnings=tuple(warnings),
        )
    )


def orphans(waivers: WaiverSet, against: Result | Iterable[Mapping[str, Any]]) -> list[Waiver]:
    """Waivers that match nothing in a result (its findings) or in a set of resources."""
    from policyengine.findings.model import fingerprint as fp

    remaining = list(waivers.waivers)
    if isinstance(against, Result):
        from policyengine.findings.fold import unfold

        for f in unfold(against.findings):  # a folded finding is still a finding
            if not remaining:
                break
            remaining = [w for w in remaining if not w.matches(f)]
        return remaining
    for res in against:
        if not remaining:
            break
        kind, source, rid = (
            str(res.get("kind", "")),
            str(res.get("source", "")),
            str(res.get("id", "")),
        )
        name = str(res.get("name") or rid)
        keep = []
        for w in remaining:
            if w.fingerprint is not None:
                hit = fp(w.policy, kind, source, rid) == w.fingerprint
            else:
                hit = w.selector is not None and w.selector.matches(kind, source, rid, name)
            if not hit:
                keep.append(w)
        remaining = keep
    return remaining


__all__: Sequence[str] = (
    "DEFAULT_MAX_DAYS",
    "EXPIRY_WARNING_DAYS",
    "Selector",
    "Waiver",
    "WaiverProblem",
    "WaiverSet",
    "apply_waivers",
    "load_waivers",
    "orphans",
    "parse_waivers",
)
