"""Small policies the CLI, history and output tests share."""

#: enabled accounts must enrol MFA: one finding per account without it
MFA_POLICY = """\
id: T-MFA-001
title: Enabled accounts enrol MFA
severity: high
resource: account
match: {enabled: true}
require: {mfa.enrolled: true}
message: "{name} has no MFA"
remediation: Enrol MFA for {name}.
"""
