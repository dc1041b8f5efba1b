#!/usr/bin/env python3
"""Cut the Microsoft Graph v1.0 CSDL ($metadata) down to what an Entra ID posture connector reads.

Source: github.com/microsoftgraph/msgraph-metadata, file schemas/v1.0-Prod.csdl (the metadata
"handed off directly from the runtime engine of Microsoft Graph"; the OpenAPI files in openapi/
are generated from it).

    python3 cut.py v1.0-Prod.csdl -o msgraph-v1.0-entra-posture-subset.csdl.xml
    python3 cut.py --git-dir path/to/msgraph-metadata.git --commit <sha> -o ...

What is kept (vendor text only, elements copied unchanged):
  * the EntityContainer entries for the entity sets / singletons listed in CONTAINER, with their
    NavigationPropertyBindings limited to kept targets;
  * the entity types in ROOTS, their base types, and every complex and enum type their structural
    properties reach (transitively); navigation properties only where NAV_KEEP lists them;
  * every <Annotations> block whose Target is a kept type, a kept property or a kept container child
    (descriptions of the kept enum members, capability restrictions, ConsistencyLevel headers ...).
  * the bound actions in ACTIONS_KEEP whose binding parameter is a kept type (what remediation
    calls, e.g. user.revokeSignInSessions), with the annotations that target them.
Dropped: every other function and action, and every type not reached.
Standard library only.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

EDMX = "http://docs.oasis-open.org/odata/ns/edmx"
EDM = "http://docs.oasis-open.org/odata/ns/edm"
NS = "microsoft.graph"

CONTAINER = {"users", "groups", "applications", "servicePrincipals", "directoryRoles", "directoryRoleTemplates",
             "directoryObjects", "oauth2PermissionGrants", "organization", "auditLogs", "identity", "policies",
             "reports", "roleManagement"}

ROOTS = [
    "entity", "directoryObject", "user", "group", "application", "servicePrincipal", "directoryRole",
    "directoryRoleTemplate", "organization", "oAuth2PermissionGrant", "appRoleAssignment",
    "authentication", "authenticationMethod", "passwordAuthenticationMethod", "phoneAuthenticationMethod",
    "emailAuthenticationMethod", "fido2AuthenticationMethod", "microsoftAuthenticatorAuthenticationMethod",
    "softwareOathAuthenticationMethod", "windowsHelloForBusinessAuthenticationMethod",
    "temporaryAccessPassAuthenticationMethod", "platformCredentialAuthenticationMethod",
    "reportRoot", "authenticationMethodsRoot", "userRegistrationDetails",
    "roleManagement", "rbacApplication", "unifiedRoleDefinition", "unifiedRoleAssignment",
    "unifiedRoleScheduleInstanceBase", "unifiedRoleAssignmentScheduleInstance",
    "unifiedRoleEligibilityScheduleInstance", "unifiedRoleScheduleBase", "unifiedRoleAssignmentSchedule",
    "unifiedRoleEligibilitySchedule",
    "policyRoot", "authorizationPolicy", "identitySecurityDefaultsEnforcementPolicy", "adminConsentRequestPolicy",
    "identityContainer", "conditionalAccessRoot", "conditionalAccessPolicy", "authenticationStrengthPolicy",
    "auditLogRoot", "directoryAudit",
]

#: bound actions remediation calls: name -> the local name of the bound type
ACTIONS_KEEP = {"revokeSignInSessions": "user"}

NAV_KEEP = {
    "user": {"authentication", "memberOf", "transitiveMemberOf", "appRoleAssignments", "oauth2PermissionGrants",
             "ownedObjects"},
    "group": {"members", "transitiveMembers", "owners", "memberOf", "transitiveMemberOf"},
    "application": {"owners"},
    "servicePrincipal": {"appRoleAssignments", "appRoleAssignedTo", "oauth2PermissionGrants", "owners", "memberOf",
                         "transitiveMemberOf"},
    "directoryRole": {"members"},
    "authentication": {"methods", "fido2Methods", "microsoftAuthenticatorMethods", "phoneMethods", "emailMethods",
                       "passwordMethods", "softwareOathMethods", "windowsHelloForBusinessMethods",
                       "temporaryAccessPassMethods", "platformCredentialMethods"},
    "reportRoot": {"authenticationMethods"},
    "authenticationMethodsRoot": {"userRegistrationDetails"},
    "roleManagement": {"directory"},
    "rbacApplication": {"roleDefinitions", "roleAssignments", "roleAssignmentScheduleInstances",
                        "roleEligibilityScheduleInstances", "roleAssignmentSchedules", "roleEligibilitySchedules"},
    "unifiedRoleDefinition": {"inheritsPermissionsFrom"},
    "unifiedRoleAssignment": {"principal", "roleDefinition", "directoryScope"},
    "unifiedRoleScheduleInstanceBase": {"principal", "roleDefinition", "directoryScope"},
    "unifiedRoleAssignmentScheduleInstance": {"activatedUsing"},
    "unifiedRoleScheduleBase": {"principal", "roleDefinition", "directoryScope"},
    "unifiedRoleAssignmentSchedule": {"activatedUsing"},
    "policyRoot": {"authorizationPolicy", "identitySecurityDefaultsEnforcementPolicy", "adminConsentRequestPolicy",
                   "conditionalAccessPolicies"},
    "identityContainer": {"conditionalAccess"},
    "conditionalAccessRoot": {"policies"},
    "conditionalAccessGrantControls": {"authenticationStrength"},
    "auditLogRoot": {"directoryAudits"},
}

TYPE_REF = re.compile(r"^(?:Collection\()?(?:graph|microsoft\.graph)\.([A-Za-z0-9_]+)\)?$")


def q(tag):
    return f"{{{EDM}}}{tag}"


def _navs(types, name):
    """Kept navigation property names of a type, its base types included."""
    out = set()
    while name in types:
        el = types[name]
        out |= {n.get("Name") for n in el.findall(q("NavigationProperty"))}
        m = TYPE_REF.match(el.get("BaseType") or "")
        name = m.group(1) if m else ""
    return out


def load(args) -> bytes:
    if args.git_dir:
        return subprocess.run(["git", "--git-dir", args.git_dir, "show", f"{args.commit}:schemas/v1.0-Prod.csdl"],
                              check=True, capture_output=True).stdout
    with open(args.csdl, "rb") as f:
        return f.read()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csdl", nargs="?", help="path to schemas/v1.0-Prod.csdl")
    ap.add_argument("--git-dir", help="a clone (bare is fine) of microsoftgraph/msgraph-metadata")
    ap.add_argument("--commit", default="HEAD")
    ap.add_argument("-o", "--output", required=True)
    args = ap.parse_args()
    if not args.csdl and not args.git_dir:
        ap.error("give the CSDL file or --git-dir")
    ET.register_namespace("edmx", EDMX)
    ET.register_namespace("", EDM)
    root = ET.fromstring(load(args))
    schemas = root.findall(f"{{{EDMX}}}DataServices/{q('Schema')}")
    main_schema = next(s for s in schemas if s.get("Namespace") == NS)
    types = {}  # name -> element (first schema wins, as in the service)
    for el in main_schema:
        if el.tag in (q("EntityType"), q("ComplexType"), q("EnumType")):
            types.setdefault(el.get("Name"), el)

    keep: set[str] = set()
    todo = list(ROOTS) + ["conditionalAccessGrantControls"]
    while todo:
        name = todo.pop()
        if name in keep or name not in types:
            continue
        keep.add(name)
        el = types[name]
        base = el.get("BaseType")
        if base:
            m = TYPE_REF.match(base)
            if m:
                todo.append(m.group(1))
        for prop in el.findall(q("Property")):
            m = TYPE_REF.match(prop.get("Type", ""))
            if m:
                todo.append(m.group(1))
        for nav in el.findall(q("NavigationProperty")):
            if nav.get("Name") in NAV_KEEP.get(name, set()):
                m = TYPE_REF.match(nav.get("Type", ""))
                if m:
                    todo.append(m.group(1))

    out_schema = ET.Element(q("Schema"), {"Namespace": NS, "Alias": main_schema.get("Alias", "graph")})
    for el in main_schema:
        if el.tag in (q("EntityType"), q("ComplexType"), q("EnumType")) and el.get("Name") in keep \
                and types.get(el.get("Name")) is el:
            for nav in list(el.findall(q("NavigationProperty"))):
                if nav.get("Name") not in NAV_KEEP.get(el.get("Name"), set()):
                    el.remove(nav)
            out_schema.append(el)

    container = main_schema.find(q("EntityContainer"))
    kept_children = set()
    if container is not None:
        new_c = ET.SubElement(out_schema, q("EntityContainer"), dict(container.attrib))
        for child in container:
            if child.tag in (q("EntitySet"), q("Singleton")) and child.get("Name") in CONTAINER:
                etype = TYPE_REF.match(child.get("EntityType") or child.get("Type") or "")
                for b in list(child.findall(q("NavigationPropertyBinding"))):
                    segs = b.get("Path", "").split("/")
                    owner = etype.group(1) if etype else ""
                    if segs and segs[0].startswith(NS + "."):  # type-cast segment
                        owner = segs.pop(0)[len(NS) + 1:]
                    if b.get("Target") not in CONTAINER or owner not in keep or \
                            not segs or segs[0] not in _navs(types, owner):
                        child.remove(b)
                if len(child) == 0:
                    child.text = None
                new_c.append(child)
                kept_children.add(child.get("Name"))
        cname = f"{NS}.{container.get('Name')}"
    else:
        cname = ""

    def target_kept(t: str) -> bool:
        if cname and t.startswith(cname + "/"):
            return t[len(cname) + 1:].split("/")[0] in kept_children
        if not t.startswith(NS + "."):
            return False
        rest = t[len(NS) + 1:]
        if "(" in rest:  # operations are not kept
            return False
        parts = rest.split("/")
        if parts[0] not in keep:
            return False
        if len(parts) == 1:
            return True
        el = types[parts[0]]
        names = {p.get("Name") for p in el.findall(q("Property"))} | {p.get("Name") for p in el.findall(q("NavigationProperty"))}
        names |= {m.get("Name") for m in el.findall(q("Member"))}
        return parts[1] in names

    kept_actions = set()
    for el in main_schema:
        name = el.get("Name")
        if el.tag != q("Action") or el.get("IsBound") != "true" or name not in ACTIONS_KEEP:
            continue
        binding = el.find(q("Parameter"))
        m = TYPE_REF.match(binding.get("Type", "")) if binding is not None else None
        if m and m.group(1) == ACTIONS_KEEP[name] and m.group(1) in keep:
            out_schema.append(el)
            kept_actions.add(name)

    n_ann = 0
    for sch in schemas:
        for ann in sch.findall(q("Annotations")):
            if target_kept(ann.get("Target", "")):
                out_schema.append(ann)
                n_ann += 1

    out = ET.Element(f"{{{EDMX}}}Edmx", {"Version": root.get("Version", "4.0")})
    ds = ET.SubElement(out, f"{{{EDMX}}}DataServices")
    ds.append(out_schema)
    ET.indent(out, space="  ")
    with open(args.output, "wb") as f:
        f.write(b'<?xml version="1.0" encoding="utf-8"?>\n')
        f.write(ET.tostring(out, encoding="utf-8"))
        f.write(b"\n")
    n = {k: sum(1 for el in out_schema if el.tag == q(k)) for k in ("EntityType", "ComplexType", "EnumType")}
    print(f"kept {n['EntityType']} entity, {n['ComplexType']} complex, {n['EnumType']} enum types, "
          f"{len(kept_children)} container entries, {n_ann} annotation blocks -> {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
