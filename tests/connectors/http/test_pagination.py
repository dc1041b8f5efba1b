"""Link header parsing and origin checks."""

from __future__ import annotations

import httpx
import pytest

from connectors.http import next_link, same_origin


def response(*links: str) -> httpx.Response:
    return httpx.Response(200, headers=[("Link", v) for v in links])


@pytest.mark.parametrize(
    ("links", "expected"),
    [
        (['<https://o.okta.com/api/v1/users?after=00u1&limit=2>; rel="next"'], "after=00u1"),
        (
            [
                '<https://o/api/v1/users?limit=2>; rel="self"',
                '<https://o/api/v1/users?after=x,y&limit=2>; rel="next"',
            ],
            "after=x,y",
        ),
        (['<https://o/a?limit=2>; rel="self", <https://o/a?after=z>; rel="next"'], "after=z"),
        (['<https://o/a?after=q>; rel="prev next"'], "after=q"),
        (["<https://o/a?after=n>; rel=next"], "after=n"),
        (['<https://o/a?limit=2>; rel="self"'], None),
        ([], None),
    ],
)
def test_next_link(links: list[str], expected: str | None) -> None:
    found = next_link(response(*links))
    if expected is None:
        assert found is None
    else:
        assert found is not None and expected in found


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://a.okta.com/x", True),
        ("https://A.OKTA.COM:443/x", True),
        ("/api/v1/users?after=1", True),
        ("http://a.okta.com/x", False),
        ("https://a.okta.com:8443/x", False),
        ("https://a.okta.com.evil.example/x", False),
        ("//evil.example/x", False),
    ],
)
def test_same_origin(url: str, ok: bool) -> None:
    assert same_origin(url, "https://a.okta.com") is ok
