"""Compact projections of referenced resources, and persons correlated from them.

At a million accounts the dict-per-projection index and a dict per person held
1.8 GB in the parent before the workers forked (measured: 616 MiB after the
projection pass, 1,812 MiB after correlation). Here a projection is a short
row, ``[source, id, name, shape, person]``: ``shape`` is one shared tuple of
the projected values that repeat (``enabled``, ``mfa``, ``roles``, ...; a few
hundred distinct ones in a million accounts), and ``person`` is the person id.
A person with one account and one correlation key is that account's row; only
the others (a few percent) get an object of their own. Lookups build the dict
a checker sees on demand, so policies see exactly what they saw before.

Correlation follows :func:`policyengine.engine.correlate.correlate` exactly:
the same keys, the same union of keys, the same person ids, names and order of
accounts (a test compares the two over generated data).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import orjson

from policyengine.engine.correlate import (
    _HUMAN_TYPES,
    PERSON_SOURCE,
    KeyUnion,
    _keys,
    person_resource,
)
from policyengine.engine.index import resolve_reference
from policyengine.engine.needs import Needs
from policyengine.model.kinds import FIELD_TYPES


class _Absent:
    """A projected field the record does not have (``None`` is a value)."""

    __slots__ = ()

    def __reduce__(self) -> str:
        return "ABSENT"  # pickled by name: one object in every process

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT = _Absent()

#: positions in a row
SOURCE, ID, NAME, SHAPE, PERSON = range(5)

#: declared types whose values are hashable scalars; every other may be an object or list
_SCALAR_TYPES = frozenset(("bool", "int", "number", "str", "timestamp"))
_CACHE_LIMIT = 4096


class KindSpec:
    """What a projection of one kind keeps, and in which order a lookup returns it."""

    __slots__ = ("correlate", "fields", "kind", "nested", "order", "shape_fields")

    def __init__(self, kind: str, needs: Needs) -> None:
        keep = needs.projection_fields(kind) or ()
        dropped = needs.correlation_only(kind)
        self.kind = kind
        #: every field a lookup returns, in the order the dict projection had
        self.fields = tuple(f for f in keep if f not in dropped and f != "person")
        identity = {"kind", "id", "source", "name"}
        self.shape_fields = tuple(f for f in self.fields if f not in identity)
        types = FIELD_TYPES.get(kind, {})
        self.nested = tuple(
            i for i, f in enumerate(self.shape_fields) if types.get(f) not in _SCALAR_TYPES
        )
        self.correlate = kind == "account" and needs.persons
        #: per field of ``fields``: where its value is (a row slot, or a shape slot)
        order: list[tuple[str, int, int]] = []
        for name in self.fields:
            if name == "kind":
                order.append((name, -1, 0))
            elif name == "id":
                order.append((name, ID, 0))
            elif name == "source":
                order.append((name, SOURCE, 0))
            elif name == "name":
                order.append((name, NAME, 0))
            else:
                order.append((name, SHAPE, self.shape_fields.index(name)))
        self.order = tuple(order)


class ProjectionBuilder:
    """Turns records into rows in a worker (one per task: its sharing is per task)."""

    def __init__(self, specs: Mapping[str, KindSpec]) -> None:
        self._specs = specs
        self._shapes: dict[Any, tuple[Any, ...]] = {}
        self._nested: dict[bytes, Any] = {}

    def row(self, record: Mapping[str, Any]) -> list[Any] | None:
        spec = self._specs.get(record["kind"])
        if spec is None:
            return None
        get = record.get
        values = [get(f, ABSENT) for f in spec.shape_fields]
        key: list[Any] = list(values)
        for i in spec.nested:
            value = values[i]
            if type(value) is dict or type(value) is list:
                if value:
                    # one object per equal nested value (mfa, roles): pickled once per task
                    value = values[i] = self._nested.setdefault(orjson.dumps(value), value)
                    key[i] = id(value)
                else:
                    key[i] = (type(value), 0)  # every empty list (or object) is equal
        hashable = tuple(key)
        shape = self._shapes.get(hashable)
        if shape is None:
            shape = self._shapes[hashable] = tuple(values)
        keys: Any = None
        if spec.correlate and get("type") in _HUMAN_TYPES:
            found = _keys(record)  # type: ignore[arg-type]
            keys = found[0] if len(found) == 1 else (tuple(found) or None)
        name = get("name", ABSENT)
        # the same source a million times: one object (pickled once per task)
        return [sys.intern(record["source"]), record["id"], name, shape, keys]


class _Person:
    """A person that is not simply one account with one key."""

    __slots__ = ("accounts", "emails", "employee_id", "name")

    def __init__(
        self, name: str, emails: list[str], employee_id: str | None, accounts: list[list[Any]]
    ) -> None:
        self.name = name
        self.emails = tuple(emails)
        self.employee_id = employee_id
        self.accounts = tuple(accounts)


class ProjectionIndex:
    """``(kind, source, id) -> projection`` over rows, and the persons correlated from them.

    Answers :meth:`get` and :meth:`resolve` like
    :class:`policyengine.engine.index.ResourceIndex`, with equal dicts.
    """

    __slots__ = ("_cache", "_hot", "_persons", "_roots", "_specs", "_tables", "not_provided")

    def __init__(self, needs: Needs) -> None:
        kinds = [k for k in FIELD_TYPES if needs.projection_fields(k) is not None]
        self._specs = {k: KindSpec(k, needs) for k in kinds}
        self._tables: dict[tuple[str, str], dict[str, list[Any]]] = {}
        #: person id -> the one account row it is, or a _Person
        self._persons: dict[str, Any] = {}
        self._cache: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._roots: dict[str, str] = {}
        #: lookups built before forking (see warm)
        self._hot: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.not_provided: Any = None

    @property
    def specs(self) -> Mapping[str, KindSpec]:
        return self._specs

    def builder(self) -> ProjectionBuilder:
        return ProjectionBuilder(self._specs)

    def add_rows(self, kind: str, rows: list[list[Any]]) -> None:
        tables = self._tables
        table = None
        table_source = None
        for row in rows:
            source = row[SOURCE]
            if source != table_source:
                table = tables.get((kind, source))
                if table is None:
                    table = tables[(kind, source)] = {}
                table_source = source
            assert table is not None
            table[row[ID]] = row

    def share_shapes(
        self, batches: Mapping[str, list[list[Any]]], shared: dict[bytes, Any]
    ) -> None:
        """One object per equal shape (and nested value) across tasks; a task shares its own."""
        by_id: dict[int, tuple[Any, ...]] = {}
        for kind, rows in batches.items():
            spec = self._specs[kind]
            for row in rows:
                shape = row[SHAPE]
                canonical = by_id.get(id(shape))
                if canonical is None:
                    canonical = by_id[id(shape)] = self._canonical(spec, shape, shared)
                row[SHAPE] = canonical

    def _canonical(
        self, spec: KindSpec, shape: tuple[Any, ...], shared: dict[bytes, Any]
    ) -> tuple[Any, ...]:
        values = list(shape)
        for i in spec.nested:
            value = values[i]
            if (type(value) is dict or type(value) is list) and value:
                values[i] = shared.setdefault(b"n" + orjson.dumps(value), value)
        text = orjson.dumps(
            [[spec.shape_fields[i], v] for i, v in enumerate(values) if v is not ABSENT]
        )
        return shared.setdefault(b"s" + spec.kind.encode() + text, tuple(values))  # type: ignore[no-any-return]

    # -- correlation -------------------------------------------------------------

    def correlate(self) -> int:
        """Build the persons; set each correlated account row's person. Returns their number."""
        union = KeyUnion()
        parent, find = union.parent, union.find
        accounts = [t for (k, _), t in self._tables.items() if k == "account"]
        for table in accounts:
            for row in table.values():
                keys = row[PERSON]
                if type(keys) is tuple:
                    union.union(keys)
        # root -> the row, or the list of rows, with that root
        groups: dict[str, Any] = {}
        for table in accounts:
            for row in table.values():
                keys = row[PERSON]
                if keys is None:
                    continue
                key = keys if type(keys) is str else keys[0]
                root = find(key) if parent else key
                held = groups.get(root)
                if held is None:
                    groups[root] = row
                elif type(held) is list and type(held[0]) is list:
                    held.append(row)
                else:
                    groups[root] = [held, row]
        # the key a person's id is, for every key that is not its own root
        self._roots = {k: r for k in parent if (r := find(k)) != k}
        persons = self._persons
        for root, held in groups.items():
            if type(held[0]) is list:  # several accounts
                pid, person = self._group(held)
                persons[pid] = person
            elif type(held[PERSON]) is tuple:  # one account with several keys
                pid, person = self._group([held])
                persons[pid] = person
            else:  # one account, one key: the row is the person (its id is the key)
                persons[root] = held
        del groups
        for pid, person in persons.items():
            if type(person) is list:
                person[PERSON] = pid
            else:
                for row in person.accounts:
                    row[PERSON] = pid
        return len(persons)

    @staticmethod
    def _group(rows: list[list[Any]]) -> tuple[str, _Person]:
        if len(rows) > 1:
            rows.sort(key=lambda r: (r[SOURCE], r[ID]))
            keys = sorted({k for r in rows for k in _as_keys(r[PERSON])})
        else:
            keys = sorted(_as_keys(rows[0][PERSON]))
        emails = [k[6:] for k in keys if k.startswith("email:")]
        employee_ids = [k[9:] for k in keys if k.startswith("employee:")]
        pid = f"email:{emails[0]}" if emails else f"employee:{employee_ids[0]}"
        name = emails[0] if emails else next((r[NAME] for r in rows if _truthy(r[NAME])), pid)
        return pid, _Person(name, emails, employee_ids[0] if employee_ids else None, rows)

    def person_ids(self) -> list[str]:
        return list(self._persons)

    def person(self, pid: str) -> dict[str, Any] | None:
        entry = self._persons.get(pid)
        if entry is None:
            return None
        if type(entry) is list:  # one account, one key
            if pid.startswith("email:"):
                email = pid[6:]
                name, emails, employee_id = email, [email], None
            else:
                name = entry[NAME] if _truthy(entry[NAME]) else pid
                emails, employee_id = [], pid[9:]
            accounts = [(entry[SOURCE], entry[ID])]
        else:
            name, emails, employee_id = entry.name, list(entry.emails), entry.employee_id
            accounts = [(r[SOURCE], r[ID]) for r in entry.accounts]
        return person_resource(pid, name, emails, employee_id, accounts)

    def person_of(self, record: Mapping[str, Any]) -> tuple[str, str] | None:
        """The ``person`` reference of a full account record, from its own keys.

        The same as the row's person, without reading the row: a forked worker that
        reads a row copies its page (the reference count is written).
        """
        if record.get("type") not in _HUMAN_TYPES:
            return None
        keys = _keys(record)  # type: ignore[arg-type]
        if not keys:
            return None
        return (PERSON_SOURCE, self._roots.get(keys[0], keys[0]))

    # -- lookups -----------------------------------------------------------------

    def warm(self, keys: Iterable[tuple[str, str, str]]) -> int:
        """Build, before the workers fork, the lookups of resources other records reference.

        A forked worker that reads a row writes its reference count, and the
        kernel copies the page: 50,000 credentials naming random owners copied
        ~400 MiB of rows into one worker. These lookups, their persons and the
        persons' accounts are built here with their own copies of the unique
        strings, in pages of their own, which the workers then read instead.
        """
        hot = self._hot
        pending = [k for k in keys if k not in hot]
        while pending:
            key = pending.pop()
            if key in hot:
                continue
            found = self._lookup(*key)
            if found is None:
                continue
            found = {k: _fresh(v) for k, v in found.items()}
            hot[key] = found
            person = found.get("person")
            if type(person) is tuple:
                pending.append(("person", person[0], person[1]))
            if key[0] == "person":
                pending.extend(("account", s, r) for s, r in found["accounts"])
        return len(hot)

    def get(self, kind: str, source: str, rid: str) -> Mapping[str, Any] | None:
        key = (kind, source, rid)
        found = self._hot.get(key) or self._cache.get(key)
        if found is not None:
            return found
        found = self._lookup(kind, source, rid)
        if found is not None:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[key] = found
        return found

    def _lookup(self, kind: str, source: str, rid: str) -> dict[str, Any] | None:
        if kind == "person":
            return self.person(rid) if source == PERSON_SOURCE else None
        table = self._tables.get((kind, source))
        row = table.get(rid) if table is not None else None
        return self._materialise(kind, row) if row is not None else None

    def _materialise(self, kind: str, row: list[Any]) -> dict[str, Any]:
        spec = self._specs[kind]
        shape = row[SHAPE]
        out: dict[str, Any] = {}
        for name, slot, at in spec.order:
            if slot == SHAPE:
                value = shape[at]
            elif slot == -1:
                value = kind
            else:
                value = row[slot]
            if value is not ABSENT:
                out[name] = value
        if spec.correlate and type(row[PERSON]) is str:
            out["person"] = (PERSON_SOURCE, row[PERSON])
        return out

    def resolve(self, ref: Any, source: str, kind: str) -> Mapping[str, Any] | None:
        return resolve_reference(self.get, ref, source, kind)

    def rows(self, kind: str) -> Iterator[list[Any]]:
        for (k, _), table in self._tables.items():
            if k == kind:
                yield from table.values()

    def __len__(self) -> int:
        return sum(len(t) for t in self._tables.values()) + len(self._persons)


def _fresh(value: Any) -> Any:
    """``value`` with its own copy of each string (a row's id and name, a person id)."""
    if type(value) is str:
        return value.encode("utf-8", "surrogatepass").decode("utf-8", "surrogatepass")
    if type(value) is tuple:
        return tuple(_fresh(v) for v in value)
    if type(value) is list:
        return [_fresh(v) for v in value]
    return value  # shared values (shapes, nested objects) live in few pages


def _as_keys(keys: Any) -> tuple[str, ...]:
    return (keys,) if type(keys) is str else tuple(keys)


def _truthy(value: Any) -> bool:
    return value is not ABSENT and bool(value)
