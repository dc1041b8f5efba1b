"""Bundled demo snapshots of a fictional luxury retailer, Maison Verlaine.

Three sources show the UNC6040 attack chain next to clean resources:

- ``corp-ad.json`` (ldap): admins, a help-desk user, kerberoastable and
  delegating service accounts, a disabled former employee, a break-glass
  account, Domain Admins with a nested legacy group.
- ``salesforce-prod.json`` (salesforce): SMS-only admins with 24 h
  sessions, a self-authorised look-alike "Data Loader" with full scope,
  a three-year-old token owned by the former employee, a token of an
  uninstalled app, API Access Control off.
- ``okta.json`` (okta): admins with SMS-only MFA, super admins, an API
  token usable from anywhere, 24 h admin sessions with persistent cookies,
  a break-glass account with a weak, shared TOTP seed.
- ``google-workspace.json`` (google, collected by the connector from the test
  emulator): a super admin and a help-desk admin without enforced 2SV, a
  look-alike "Docs Sync Helper" holding Gmail and Drive scopes from five users
  (one of them the suspended leaver), an admin tool with Directory scope on a
  super admin, app passwords (one never used), a never-used service account.
- ``github.json`` (github, collected by the connector from the test
  emulator): an org without required 2FA and base permission write, one
  owner, a member and an outside agency without 2FA, the agency admin of
  ``boutique-web``, the leaver's never-expiring classic token and stale write
  deploy key, a release token writing to every repository, a new App on every
  repository with write, a two-year-old ``SALESFORCE_REFRESH_TOKEN`` secret.
- ``entra.json`` (entra, collected by the connector from the test emulator):
  permanent Global Administrators (one with SMS only, one synced from AD), a
  guest User Administrator, user consent on, a look-alike "Micros0ft Docs
  Viewer" from another tenant with a tenant-wide Mail.Read grant and
  Mail.ReadWrite, a never-expiring secret on an app owned by the disabled
  leaver, a report-only "Require MFA for admins" policy, a dormant admin.

The same people appear in several sources with the same email, so
cross-source correlation works.

>>> [p.name for p in demo_snapshot_paths()]
['corp-ad.json', 'salesforce-prod.json', 'okta.json', 'google-workspace.json', 'github.json', 'entra.json']
"""

from __future__ import annotations

from pathlib import Path

_DIR = Path(__file__).resolve().parent
DEMO_FILES: tuple[str, ...] = (
    "corp-ad.json",
    "salesforce-prod.json",
    "okta.json",
    "google-workspace.json",
    "github.json",
    "entra.json",
)


def demo_snapshot_paths() -> list[Path]:
    """Paths of the bundled demo snapshots, in a stable order."""
    return [_DIR / name for name in DEMO_FILES]
