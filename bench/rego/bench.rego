# The 8 benchmark policies (bench/policies/, P7 split in two) in Rego, for regorus.
# Each rule is the set of ids of the resources that violate the policy, as a
# conftest/OPA `deny` rule would collect them; bench/regorus_side.py counts them.
package bench

import rego.v1

cutoff_90d := "2026-08-03T00:00:00Z" # NOW (2026-11-01) - 90 days; RFC 3339 UTC compares as text

secret_types := {"api_token", "client_secret", "access_key"}

broad_scopes := {"full_access", "data:read_all", "data:write_all", "admin:org"}

stale(at) if at == null

stale(at) if at <= cutoff_90d

# BENCH-P1: webauthn among the MFA methods
p1 contains a.id if {
	some a in input.accounts
	a.enabled == true
	a.privileged == true
	not "webauthn" in object.get(a, ["mfa", "methods"], [])
}

# BENCH-P2: enabled accounts have MFA
p2 contains a.id if {
	some a in input.accounts
	a.enabled == true
	object.get(a, ["mfa", "enrolled"], false) != true
}

# BENCH-P3: short sessions (a missing value passes)
p3 contains a.id if {
	some a in input.accounts
	a.enabled == true
	a.privileged == true
	a.session.max_lifetime_minutes > 720
}

p3 contains a.id if {
	some a in input.accounts
	a.enabled == true
	a.privileged == true
	a.session.idle_timeout_minutes > 15
}

# BENCH-P4: logged in within 90 days
p4 contains a.id if {
	some a in input.accounts
	a.enabled == true
	a.privileged == true
	stale(object.get(a, "last_login_at", null))
}

# BENCH-P5: secrets older than 90 days have been rotated
p5 contains c.id if {
	some c in input.credentials
	c.type in secret_types
	not c.last_rotated_at
	object.get(c, "created_at", "") <= cutoff_90d
}

# BENCH-P6: broad OAuth scopes are admin-approved
p6 contains i.id if {
	some i in input.integrations
	count(broad_scopes & {s | some s in object.get(i, "scopes", [])}) > 0
	object.get(i, "admin_approved", false) != true
}

# BENCH-P7A / P7B: used within 90 days
p7a contains c.id if {
	some c in input.credentials
	stale(object.get(c, "last_used_at", null))
}

p7b contains i.id if {
	some i in input.integrations
	stale(object.get(i, "last_used_at", null))
}

# BENCH-P8: secrets have an expiry
p8 contains c.id if {
	some c in input.credentials
	c.type in secret_types
	not c.expires_at
}
