"""The ``file`` connector: access-as-code.

Teams keep who has access in git (``access/*.yaml``: accounts, groups, role
grants, session policies, integrations, credentials, break-glass accounts);
this connector reads those files into a snapshot in which every resource
remembers the file and line that declared it (``location``), so a pull
request that adds an admin without phishing-resistant MFA is flagged at that
line. The format is documented in ``docs/access-as-code.md``.

>>> from connectors.file import FileConnector
>>> FileConnector.name
'file'
"""

from connectors.file._connector import FileConnector
from connectors.file._load import AccessFileError, AccessValidationError

__all__ = ["AccessFileError", "AccessValidationError", "FileConnector"]
