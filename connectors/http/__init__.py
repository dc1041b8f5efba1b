"""The HTTP layer shared by the SaaS connectors (Salesforce, Okta, ...).

Built on httpx (connection pooling, timeouts, TLS verification, thread-safe
clients): this package adds what every vendor API needs on top:

- :class:`HttpClient`: retries with exponential backoff and full jitter on
  429 / 5xx / dropped or reset connections / truncated or malformed bodies,
  honouring ``Retry-After``; one re-authentication on an expired token
  (:class:`TokenAuth`, ``refreshable=False`` for long-lived tokens); hooks
  for vendor headers and error bodies; errors that never carry a secret;
  :class:`ServerUnreachable` when no connection can be made at all;
- :class:`RateLimitHeaders`: pause every thread before an
  ``X-Rate-Limit-Remaining`` budget runs out, until ``X-Rate-Limit-Reset``;
- :func:`link_pages`: ``Link: rel="next"`` pagination, same origin only;
- :func:`map_bounded`: bounded concurrency for per-item calls;
- :class:`Progress`: a progress line on a terminal only.
"""

from connectors.http.client import (
    HttpClient,
    HttpStatusError,
    RetryPolicy,
    ServerUnreachable,
    TokenAuth,
)
from connectors.http.concurrency import map_bounded
from connectors.http.pagination import link_pages, next_link, same_origin
from connectors.http.progress import Progress
from connectors.http.ratelimit import RateLimitHeaders

__all__ = [
    "HttpClient",
    "HttpStatusError",
    "Progress",
    "RateLimitHeaders",
    "RetryPolicy",
    "ServerUnreachable",
    "TokenAuth",
    "link_pages",
    "map_bounded",
    "next_link",
    "same_origin",
]
