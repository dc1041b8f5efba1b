"""Group membership: nesting resolved client-side, with cycle detection, and a
disk spool for the member lists so that memory does not grow with the
directory.

Groups are few next to accounts and are held in memory (:class:`GroupInfo`).
Membership edges (group -> member DN) and the account DN -> id map are kept
in a temporary SQLite file; group member lists are read back from it when
the groups are written, after the accounts.
"""

from __future__ import annotations

import re
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def norm_dn(dn: str) -> str:
    """A DN as a lookup key: lower case, no blanks around separators, one escaping.

    ``member`` values, ``memberOf`` values, entry DNs and configured DNs may
    spell one DN differently (``\\,`` or ``\\2C``, blanks after commas);
    keys are the same for all of them.
    """
    low = dn.lower()
    if "\\" in low:
        return _canonical(low)
    if ", " in low or " ," in low or " =" in low or "= " in low:
        low = ",".join("=".join(p.strip() for p in rdn.split("=", 1)) for rdn in low.split(","))
    return low


_BLANK_AFTER_COMMA = re.compile(r"(?<!\\),\s+")
_SPECIAL = frozenset(',+"\\<>;=')


def _canonical(dn: str) -> str:
    from ldap3.core.exceptions import LDAPInvalidDnError
    from ldap3.utils.dn import parse_dn

    try:
        parts = parse_dn(_BLANK_AFTER_COMMA.sub(",", dn))
    except LDAPInvalidDnError:
        return dn
    out = []
    for attr, value, sep in parts:
        plain = _unescape(value.strip())
        escaped = "".join("\\" + ch if ch in _SPECIAL else ch for ch in plain)
        out.append(f"{attr.strip()}={escaped}{sep}")
    return "".join(out)


def _unescape(value: str) -> str:
    raw = bytearray()
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            pair = value[i + 1 : i + 3]
            if len(pair) == 2 and all(c in "0123456789abcdefABCDEF" for c in pair):
                raw += bytes.fromhex(pair)
                i += 3
                continue
            raw += value[i + 1].encode()
            i += 2
            continue
        raw += ch.encode()
        i += 1
    return raw.decode("utf-8", "replace")


@dataclass(slots=True)
class GroupInfo:
    """What the collector keeps about one group while accounts stream past."""

    dn: str
    id: str
    name: str
    sid: str | None = None
    rid: int | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    parents: list[str] = field(default_factory=list)  # keys of groups this one is in
    children: list[str] = field(default_factory=list)  # keys of groups in this one


class Membership:
    """Groups, their nesting and the member spool for one collection."""

    def __init__(self, spool_dir: str | None = None) -> None:
        self.groups: dict[str, GroupInfo] = {}
        self.cycles: list[list[str]] = []
        self._ancestors: dict[str, frozenset[str]] = {}
        self._sets: dict[tuple[str, ...], tuple[frozenset[str], list[str]]] = {}
        self._tmp = tempfile.TemporaryDirectory(prefix="pe-ldap-", dir=spool_dir)
        self._db = sqlite3.connect(Path(self._tmp.name) / "members.sqlite")
        self._db.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-2000;"
            "CREATE TABLE edge(grp TEXT NOT NULL, member TEXT NOT NULL);"
            "CREATE TABLE ids(dn TEXT PRIMARY KEY, id TEXT NOT NULL) WITHOUT ROWID;"
        )
        self._indexed = False
        # member key -> group keys, for membership attributes that the memberOf
        # overlay does not maintain (uniqueMember): few, so kept in memory.
        self.not_in_member_of: dict[str, list[str]] = {}

    # -- building ------------------------------------------------------------
    def add_group(self, key: str, group: GroupInfo, member_dns: Iterable[str]) -> None:
        self.groups[key] = group
        self._db.executemany(
            "INSERT INTO edge VALUES (?, ?)", ((key, norm_dn(m)) for m in member_dns)
        )

    def add_uncovered(self, key: str, member_dns: Iterable[str]) -> None:
        """Edges that memberOf will not show; also spooled like the others."""
        for m in member_dns:
            member = norm_dn(m)
            self.not_in_member_of.setdefault(member, []).append(key)
            self._db.execute("INSERT INTO edge VALUES (?, ?)", (key, member))

    def add_edge(self, group_key: str, member_key: str) -> None:
        self._db.execute("INSERT INTO edge VALUES (?, ?)", (group_key, member_key))

    def finish_groups(self) -> None:
        """Index the spool and link nested groups (after every group was added)."""
        self._db.execute("CREATE INDEX edge_member ON edge(member)")
        self._db.execute("CREATE INDEX edge_grp ON edge(grp)")
        self._indexed = True
        for grp, member in self._db.execute("SELECT grp, member FROM edge"):
            child = self.groups.get(member)
            if child is not None and grp in self.groups:
                child.parents.append(grp)
                self.groups[grp].children.append(member)
        self._find_cycles()

    def add_account(self, key: str, account_id: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO ids VALUES (?, ?)", (key, account_id))

    # -- reading -------------------------------------------------------------
    def direct_groups_of(self, key: str) -> list[str]:
        """Groups whose member list names ``key`` (used when there is no memberOf)."""
        return [
            g
            for (g,) in self._db.execute("SELECT grp FROM edge WHERE member = ?", (key,))
            if g in self.groups
        ]

    def sample_members(self, limit: int = 200) -> list[str]:
        """Some member keys that are not groups (to probe for a memberOf overlay)."""
        rows = self._db.execute("SELECT member FROM edge LIMIT ?", (limit,))
        return [m for (m,) in rows if m not in self.groups]

    def ancestors(self, key: str) -> frozenset[str]:
        """Every group ``key`` is nested in, transitively (cycles are cut)."""
        cached = self._ancestors.get(key)
        if cached is not None:
            return cached
        seen: set[str] = set()
        stack = list(self.groups[key].parents) if key in self.groups else []
        while stack:
            g = stack.pop()
            if g in seen:
                continue
            seen.add(g)
            stack.extend(self.groups[g].parents)
        seen.discard(key)
        result = frozenset(seen)
        self._ancestors[key] = result
        return result

    def effective(self, direct: Iterable[str]) -> tuple[frozenset[str], list[str]]:
        """(keys, sorted ids) of every group reached from the ``direct`` group keys."""
        wanted = tuple(sorted({d for d in direct if d in self.groups}))
        hit = self._sets.get(wanted)
        if hit is not None:
            return hit
        keys: set[str] = set(wanted)
        for g in wanted:
            keys |= self.ancestors(g)
        result = (frozenset(keys), sorted(self.groups[k].id for k in keys))
        if len(self._sets) < 10_000:  # accounts share few distinct sets; keep the cache bounded
            self._sets[wanted] = result
        return result

    def account_members(self, group_key: str) -> list[str]:
        """Ids of the collected accounts that are direct members of the group."""
        return [
            i
            for (i,) in self._db.execute(
                "SELECT ids.id FROM edge JOIN ids ON ids.dn = edge.member "
                "WHERE edge.grp = ? ORDER BY ids.id",
                (group_key,),
            )
        ]

    def iter_groups(self) -> Iterator[tuple[str, GroupInfo]]:
        yield from self.groups.items()

    def _find_cycles(self) -> None:
        # Iterative DFS with colours; a grey -> grey edge closes a cycle.
        white, grey, black = 0, 1, 2
        colour = dict.fromkeys(self.groups, white)
        for start in self.groups:
            if colour[start] != white:
                continue
            path: list[str] = []
            stack: list[tuple[str, Iterator[str]]] = [(start, iter(self.groups[start].parents))]
            colour[start] = grey
            path.append(start)
            while stack:
                node, it = stack[-1]
                nxt = next(it, None)
                if nxt is None:
                    colour[node] = black
                    stack.pop()
                    path.pop()
                elif colour[nxt] == grey:
                    self.cycles.append([*path[path.index(nxt) :], nxt])
                elif colour[nxt] == white:
                    colour[nxt] = grey
                    path.append(nxt)
                    stack.append((nxt, iter(self.groups[nxt].parents)))

    def close(self) -> None:
        self._db.close()
        self._tmp.cleanup()
