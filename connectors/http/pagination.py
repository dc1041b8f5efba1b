"""Follow ``Link: <...>; rel="next"`` pagination (RFC 8288), as Okta and GitHub do.

The next URL is used exactly as the server wrote it (its ``after`` cursor is
opaque), but only if it points at the same scheme, host and port as the
request that returned it: a next link elsewhere would carry our credentials
to another server.

>>> from connectors.http import HttpClient  # doctest: +SKIP
>>> for page in link_pages(client, "/api/v1/users", params={"limit": 200}):  # doctest: +SKIP
...     for user in page: ...
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from policyengine.errors import ConnectorError

if TYPE_CHECKING:
    from connectors.http.client import HttpClient


def next_link(response: Any) -> str | None:
    """The ``rel="next"`` target of ``response``'s Link header(s), or None."""
    values = response.headers.get_list("link") if hasattr(response.headers, "get_list") else []
    for value in values:
        for part in _split_links(value):
            url, _, params = part.partition(";")
            url = url.strip()
            if not (url.startswith("<") and url.endswith(">")):
                continue
            for param in params.split(";"):
                name, _, val = param.strip().partition("=")
                if name.strip().lower() == "rel" and "next" in val.strip().strip('"').split():
                    return url[1:-1]
    return None


def _split_links(value: str) -> list[str]:
    """Split a Link header on the commas between links (not those inside <...>)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(value):
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth = max(0, depth - 1)
        elif ch == "," and depth == 0:
            parts.append(value[start:i])
            start = i + 1
    parts.append(value[start:])
    return [p.strip() for p in parts if p.strip()]


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


def same_origin(url: str, other: str) -> bool:
    """True when ``url`` is relative or has the scheme, host and port of ``other``.

    >>> same_origin("https://a.okta.com/x?after=1", "https://a.okta.com:443/y")
    True
    >>> same_origin("https://evil.example/x", "https://a.okta.com/y")
    False
    """
    if not urlsplit(url).scheme:
        return url.startswith("/") and not url.startswith("//")
    return _origin(url) == _origin(other)


def link_pages(
    client: HttpClient,
    path: str,
    *,
    params: Mapping[str, Any] | None = None,
    max_pages: int = 1_000_000,
) -> Iterator[list[Any]]:
    """Yield each page (a JSON array) of a Link-paginated collection.

    Raises ConnectorError when a page is not an array, a next link leaves the
    origin, or a next link repeats (a server bug that would loop forever).
    """
    url: str | None = path
    query: Mapping[str, Any] | None = params
    seen: set[str] = set()
    for _ in range(max_pages):
        if url is None:
            return
        response, page = client.fetch_json("GET", url, params=query)
        if not isinstance(page, list):
            raise ConnectorError(
                f"GET {client.url(path)}: expected a JSON array, got {type(page).__name__}"
            )
        yield page
        following = next_link(response)
        if following is None:
            return
        if not same_origin(following, str(response.request.url)):
            raise ConnectorError(
                f"GET {client.url(path)}: next link points at another server; not followed"
            )
        if following in seen:
            raise ConnectorError(f"GET {client.url(path)}: next link repeats; stopped")
        seen.add(following)
        url, query = following, None
    raise ConnectorError(f"GET {client.url(path)}: more than {max_pages} pages")
