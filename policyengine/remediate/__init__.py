"""Remediation: findings -> a reviewed, hashed plan -> live actions -> history.

- :mod:`.contract`: the typed action interface a connector plug-in provides;
- :mod:`.registry`: finds a connector's actions, checks parameters, opens a
  write session from the source's ``remediation:`` credentials;
- :mod:`.plan`: builds the deterministic plan from a result and the policies;
- :mod:`.approve`: the approval hash (sha256 of the plan file as written);
- :mod:`.apply`: re-reads, skips drift, acts, records;
- :mod:`.record`: the ``actions`` rows of the history database.
"""
