"""GitHub organisation connector: members, 2FA, owners, tokens, deploy keys, Apps, secrets.

Talks to the GitHub REST API (api.github.com or GitHub Enterprise Server
``https://HOST/api/v3``) with a personal access token, a GitHub App
installation, or both. See ``docs/connectors/github.md``.
"""

from connectors.github._connector import GitHubConnector

__all__ = ["GitHubConnector"]
