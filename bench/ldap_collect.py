#!/usr/bin/env python3
"""Benchmark: `policyengine collect ldap` against a raw ldap3 paged search and
`ldapsearch`, over the same entries of a real slapd, in one run.

It generates N users (plus groups: every user in one of 100 groups, groups
nested three deep, one privileged), loads them with ``slapadd`` before slapd
starts (memberOf written into the LDIF, since slapadd bypasses overlays),
then times:

0. (untimed) one ldapsearch to warm slapd and the OS page cache;
1. a raw ldap3 paged search (page 500) of the users with the attributes the
   connector asks for (19), entries consumed and dropped; and the same with
   only uid, cn, mail, memberOf (the shared reference's measurement);
2. ``ldapsearch -E pr=500/noprompt`` of the same, output to /dev/null;
3. ``policyengine collect ldap ... -o out.jsonl`` (the whole command:
   interpreter start, groups, accounts, JSONL written), with its peak RSS.

Peak RSS is also measured at a tenth of N, to show it does not grow with
the directory. Usage::

    .venv/bin/python bench/ldap_collect.py [--users 100000] [--page-size 500]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.connectors.ldap import servers  # noqa: E402

GROUPS = 100
BASE = servers.BASE_DN


def make_ldif(path: Path, users: int) -> None:
    """Base entries, users with memberOf, and groups with member lists."""
    # one {SSHA} hash for every user, as a real directory would hold
    pw = subprocess.run(
        ["slappasswd", "-s", "Passw0rd!"], capture_output=True, text=True, check=True
    ).stdout.strip()
    group_dn = [f"cn=team{g:03d},ou=groups,{BASE}" for g in range(GROUPS)]
    with path.open("w") as f:
        f.write(
            f"dn: {BASE}\nobjectClass: top\nobjectClass: dcObject\nobjectClass: organization\n"
            "o: Example\ndc: example\n\n"
        )
        for ou in ("people", "groups", "policies"):
            f.write(f"dn: ou={ou},{BASE}\nobjectClass: organizationalUnit\nou: {ou}\n\n")
        f.write(
            f"dn: cn=default,ou=policies,{BASE}\nobjectClass: top\nobjectClass: device\n"
            "objectClass: pwdPolicy\ncn: default\npwdAttribute: userPassword\npwdMaxAge: 0\n\n"
        )
        for i in range(users):
            g = i % GROUPS
            f.write(
                f"dn: uid=user{i:06d},ou=people,{BASE}\nobjectClass: inetOrgPerson\n"
                f"uid: user{i:06d}\ncn: User {i}\nsn: {i}\nmail: user{i:06d}@example.com\n"
                f"employeeNumber: E{i:06d}\nuserPassword: {pw}\nmemberOf: {group_dn[g]}\n\n"
            )
        for g in range(GROUPS):
            f.write(f"dn: {group_dn[g]}\nobjectClass: groupOfNames\ncn: team{g:03d}\n")
            for i in range(g, users, GROUPS):
                f.write(f"member: uid=user{i:06d},ou=people,{BASE}\n")
            # nesting: team000 in team001 in team002 (the privileged one)
            if g in (1, 2):
                f.write(f"member: {group_dn[g - 1]}\n")
            if g in (0, 1):
                f.write(f"memberOf: {group_dn[g + 1]}\n")
            f.write("\n")


def start_slapd(users: int) -> tuple[servers.Slapd, float]:
    directory = servers.tempdir("pe-bench-slapd-")
    ldif = directory / "data.ldif"
    t = time.monotonic()
    make_ldif(ldif, users)
    server = servers.Slapd(directory, preload=[ldif])
    server.setup()  # runs slapadd
    load = time.monotonic() - t
    server.start()
    ldif.unlink()
    return server, load


def user_attributes() -> tuple[str, list[str]]:
    from connectors.ldap._openldap import OpenLdapProfile

    profile = OpenLdapProfile()
    return profile.default_user_filter, profile.user_attributes(profile.default_mapping)


def raw_ldap3(url: str, page: int, attrs: list[str] | None = None) -> tuple[float, int]:
    import ldap3

    flt, all_attrs = user_attributes()
    attrs = attrs or all_attrs
    conn = ldap3.Connection(
        ldap3.Server(url, get_info=ldap3.NONE), servers.ROOT_DN, servers.ROOT_PW, auto_bind=True
    )
    t = time.monotonic()
    n = 0
    for e in conn.extend.standard.paged_search(
        f"ou=people,{BASE}", flt, attributes=attrs, paged_size=page, generator=True
    ):
        if e["type"] == "searchResEntry":
            n += 1
    elapsed = time.monotonic() - t
    conn.unbind()
    return elapsed, n


def ldapsearch(url: str, page: int) -> tuple[float, int]:
    flt, attrs = user_attributes()
    t = time.monotonic()
    proc = subprocess.run(
        ["ldapsearch", "-x", "-LLL", "-H", url, "-D", servers.ROOT_DN, "-w", servers.ROOT_PW,
         "-b", f"ou=people,{BASE}", "-E", f"pr={page}/noprompt", flt, *attrs],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True,
    )  # fmt: skip
    elapsed = time.monotonic() - t
    return elapsed, proc.stdout.count(b"\ndn: ") + proc.stdout.startswith(b"dn: ")


def collect_cli(url: str, out: Path, page: int) -> tuple[float, int, int]:
    """Wall time, peak RSS (KiB, sampled every 10 ms) and exit status of the real command."""
    env = servers.env_with(PE_BENCH_PW=servers.ROOT_PW)
    cmd = [str(ROOT / ".venv" / "bin" / "policyengine"), "collect", "ldap",
           "--url", url, "--base-dn", BASE, "--bind-dn", servers.ROOT_DN,
           "--password-env", "PE_BENCH_PW", "--page-size", str(page),
           "--privileged-group", f"cn=team002,ou=groups,{BASE}",
           "--ppolicy-default", f"cn=default,ou=policies,{BASE}", "-o", str(out)]  # fmt: skip
    t = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # Peak RSS of the command itself: VmHWM of its own address space. (ru_maxrss
    # from wait4 would include this benchmark's memory, inherited at fork.)
    peak_kib = 0
    status_file = Path(f"/proc/{proc.pid}/status")
    while proc.poll() is None:
        try:
            for line in status_file.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak_kib = max(peak_kib, int(line.split()[1]))
        except OSError:
            pass
        time.sleep(0.01)
    elapsed = time.monotonic() - t
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        print(err, file=sys.stderr)
    return elapsed, peak_kib, proc.returncode


def run(users: int, page: int, *, compare: bool) -> dict[str, float]:
    server, load = start_slapd(users)
    out = server.directory / "out.jsonl"
    try:
        figures: dict[str, float] = {"users": users, "slapadd_s": load}
        ldapsearch(server.url, page)  # warm slapd and the page cache: every run below starts equal
        if compare:
            figures["ldap3_s"], n = raw_ldap3(server.url, page)
            assert n == users, n
            # the reference measurement's narrower search (uid, cn, mail, memberOf)
            figures["ldap3_4attr_s"], _ = raw_ldap3(
                server.url, page, ["uid", "cn", "mail", "memberOf"]
            )
            figures["ldapsearch_s"], n2 = ldapsearch(server.url, page)
            assert n2 == users, n2
        figures["collect_s"], figures["collect_rss_mib"], rc = collect_cli(server.url, out, page)
        figures["collect_rss_mib"] /= 1024
        assert rc == 0, rc
        lines = sum(1 for _ in out.open("rb"))
        figures["records"] = lines - 1
        figures["snapshot_mib"] = out.stat().st_size / 2**20
    finally:
        server.stop()
        servers.rmtree(server.directory)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--page-size", type=int, default=500)
    args = parser.parse_args()
    if not (servers.SLAPD and servers.SLAPADD):
        print("slapd/slapadd not installed", file=sys.stderr)
        return 2
    small = run(max(args.users // 10, 1000), args.page_size, compare=False)
    big = run(args.users, args.page_size, compare=True)
    n = big["users"]
    print(f"users                 {n:>10,.0f}  (+{GROUPS} groups, nested, one privileged)")
    print(f"slapadd load          {big['slapadd_s']:>10.2f} s")
    print(f"ldapsearch (C)        {big['ldapsearch_s']:>10.2f} s")
    print(
        f"raw ldap3 paged       {big['ldap3_s']:>10.2f} s   {n / big['ldap3_s']:>9,.0f} entries/s"
    )
    print(f"raw ldap3, 4 attrs    {big['ldap3_4attr_s']:>10.2f} s   (uid cn mail memberOf)")
    print(
        f"policyengine collect  {big['collect_s']:>10.2f} s   {n / big['collect_s']:>9,.0f} "
        f"entries/s  ({big['records']:,.0f} records, {big['snapshot_mib']:.0f} MiB JSONL)"
    )
    print(f"collect / raw ldap3   {big['collect_s'] / big['ldap3_s']:>10.2f} x   (target <= 1.20)")
    print(
        f"collect peak RSS      {big['collect_rss_mib']:>10.1f} MiB at {n:,.0f} users; "
        f"{small['collect_rss_mib']:.1f} MiB at {small['users']:,.0f} users"
    )
    print(
        f"bench process RSS     {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:>10.1f} MiB"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
