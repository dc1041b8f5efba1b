"""policyengine: privileged-access and credential-hygiene policy engine.

The public surface is small: load snapshots, load policies, evaluate.

>>> from policyengine import __version__
>>> isinstance(__version__, str)
True
"""

__version__ = "0.1.0"

#: Version of the finding JSON shape (``--format json``); changes are additive only.
RESULT_SCHEMA_VERSION = 1
