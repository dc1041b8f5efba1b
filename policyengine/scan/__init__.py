"""The periodic compliance scan: every connector, one dated run folder, history.

Example::

    from policyengine.api import load_policy_set
    from policyengine.scan import ScanPlan, run_scan

    plan = ScanPlan(load_policy_set(), Path("runs"), Path("history.db"),
                    snapshots=(Path("corp.jsonl"),))
    outcome = run_scan(plan)
    outcome.changes.run.resolved, outcome.reports["html"]
"""

from policyengine.scan._collect import Collected, InstanceSpec, collect_all, with_defaults
from policyengine.scan._progress import Progress
from policyengine.scan._run import ScanOutcome, ScanPlan, make_run_dir, run_scan
from policyengine.scan._signals import sigterm_raises
from policyengine.scan._summary import markdown_summary, scan_exit_code, text_summary

__all__ = [
    "Collected",
    "InstanceSpec",
    "Progress",
    "ScanOutcome",
    "ScanPlan",
    "collect_all",
    "make_run_dir",
    "markdown_summary",
    "run_scan",
    "scan_exit_code",
    "sigterm_raises",
    "text_summary",
    "with_defaults",
]
