"""The HTTP layer shared by the SaaS connectors (Salesforce, Okta, ...).

Built on httpx (connection pooling, timeouts, TLS verification, thread-safe
clients): this package adds what every vendor API needs on top — retries
with exponential backoff and jitter on 429 / 5xx / dropped connections that
honour ``Retry-After`` and vendor rate-limit headers, one re-authentication
on an expired token, bounded concurrency, and errors that never carry a
secret.
"""

from connectors.http.client import HttpClient, RetryPolicy, ServerUnreachable, TokenAuth
from connectors.http.concurrency import map_bounded
from connectors.http.pagination import link_pages, next_link
from connectors.http.progress import Progress
from connectors.http.ratelimit import RateLimitHeaders

__all__ = [
    "HttpClient",
    "Progress",
    "RateLimitHeaders",
    "RetryPolicy",
    "ServerUnreachable",
    "TokenAuth",
    "link_pages",
    "map_bounded",
    "next_link",
]
