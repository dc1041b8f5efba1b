"""Paging the way vendors page: cursors, offsets, page numbers, opaque tokens, Link headers.

An emulator slices its listing with one of these and writes the result in its own wire
format (``Link`` header for Okta and GitHub, ``nextRecordsUrl`` for Salesforce,
``nextPageToken`` for Google, ``@odata.nextLink`` for Graph)::

    page = cursor_page(users, request.param("after"), limit)
    if page is None:
        return vendor_error(400, "bad cursor")
    links = {"self": url(base, path, {"limit": limit})}
    if page.next is not None:
        links["next"] = url(base, path, {"after": page.next, "limit": limit})
    return Response.json(page.items, headers={"Link": link_header(links)})
"""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

T = TypeVar("T")
S = TypeVar("S")

__all__ = [
    "Page",
    "PageTokens",
    "cursor_page",
    "link_header",
    "numbered_page",
    "offset_page",
    "parse_link_header",
    "url",
]


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a listing; ``next`` is what the client sends for the next page, or None."""

    items: list[T]
    next: Any = None
    last: int | None = None  # the last page number, for page-numbered listings


def _item_id(item: Any) -> str:
    return str(item["id"])


def cursor_page(
    items: Sequence[T],
    after: str | None,
    limit: int,
    *,
    key: Callable[[T], str] = _item_id,
    index: Mapping[str, int] | None = None,
) -> Page[T] | None:
    """The ``limit`` items after the one whose key is ``after`` (Okta's ``after`` cursor).

    ``next`` is the key of the page's last item while more follow. None when ``after``
    names no item (the vendor's "invalid cursor" error is the caller's). ``index`` (key
    to position) saves a scan on large listings.
    """
    start = 0
    if after:
        position = index.get(after) if index is not None else _find(items, after, key)
        if position is None:
            return None
        start = position + 1
    page = list(items[start : start + limit])
    more = start + limit < len(items)
    return Page(page, key(page[-1]) if more and page else None)


def _find(items: Sequence[T], wanted: str, key: Callable[[T], str]) -> int | None:
    for position, item in enumerate(items):
        if key(item) == wanted:
            return position
    return None


def offset_page(items: Sequence[T], offset: int, limit: int) -> Page[T]:
    """``limit`` items from ``offset``; ``next`` is the next offset (Salesforce locators)."""
    end = offset + limit
    return Page(list(items[offset:end]), end if end < len(items) else None)


def numbered_page(items: Sequence[T], page: int, per_page: int) -> Page[T]:
    """Page ``page`` (1-based) of ``per_page`` items; ``next``/``last`` are page numbers
    (GitHub's ``page``/``per_page``). A page past the end is empty, as GitHub answers."""
    last = max(1, -(-len(items) // per_page))
    start = (page - 1) * per_page
    return Page(list(items[start : start + per_page]), page + 1 if page < last else None, last)


class PageTokens(Generic[S]):
    """Opaque page tokens (Google ``pageToken``, Graph ``$skiptoken``, Salesforce locators).

    ``issue(state)`` hands out a fresh random token standing for ``state`` (what the
    emulator needs to serve the next page); ``get(token)`` is that state or None.
    """

    def __init__(self, prefix: str = "", nbytes: int = 8) -> None:
        self.prefix = prefix
        self.nbytes = nbytes
        self._states: dict[str, S] = {}
        self._lock = threading.Lock()

    def issue(self, state: S) -> str:
        token = self.prefix + secrets.token_hex(self.nbytes)
        with self._lock:
            self._states[token] = state
        return token

    def get(self, token: str) -> S | None:
        with self._lock:
            return self._states.get(token)


def url(base: str, path: str, query: Mapping[str, Any] | None = None) -> str:
    """``base`` + ``path`` + an encoded query string (none when ``query`` is empty)."""
    return f"{base}{path}?{urlencode(query)}" if query else f"{base}{path}"


def link_header(links: Mapping[str, str]) -> str:
    """An RFC 8288 ``Link`` value: ``<url>; rel="next", <url>; rel="last"``."""
    return ", ".join(f'<{target}>; rel="{rel}"' for rel, target in links.items())


_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?([^";,]+)"?')


def parse_link_header(value: str | None) -> dict[str, str]:
    """rel -> URL from a ``Link`` value (for tests that check what an emulator announced)."""
    found: dict[str, str] = {}
    for target, rels in _LINK.findall(value or ""):
        for rel in rels.split():
            found.setdefault(rel, target)
    return found
