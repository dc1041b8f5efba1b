"""Real directory servers for the tests and the benchmark: OpenLDAP slapd and
Samba AD DC, started from temporary directories on loopback.

Recipes measured in /work/shared/reference/ldap-servers.md: slapd starts in
under 0.1 s; a Samba AD DC is provisioned once (about 6 s) and listens on its
own loopback address because its LDAP port cannot be changed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SLAPD = shutil.which("slapd") or ("/usr/sbin/slapd" if Path("/usr/sbin/slapd").exists() else None)
SLAPADD = shutil.which("slapadd") or (
    "/usr/sbin/slapadd" if Path("/usr/sbin/slapadd").exists() else None
)
SAMBA = shutil.which("samba") or ("/usr/sbin/samba" if Path("/usr/sbin/samba").exists() else None)
SAMBA_TOOL = shutil.which("samba-tool")
OPENSSL = shutil.which("openssl")

BASE_DN = "dc=example,dc=com"
ROOT_DN = "cn=admin,dc=example,dc=com"
ROOT_PW = "rootSecret-7Qx!"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(
    host: str, port: int, timeout: float = 20.0, proc: subprocess.Popen | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace")[-2000:] if proc.stderr else ""
            raise RuntimeError(f"server exited with {proc.returncode} before listening: {err}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
            return
        time.sleep(0.02)
    raise RuntimeError(f"nothing listening on {host}:{port} after {timeout}s")


def make_ca_and_cert(directory: Path, name: str, san: str) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server cert it signed. Returns (ca.pem, cert.pem, key.pem)."""
    d = directory
    ca_key, ca = d / f"{name}-ca.key", d / f"{name}-ca.pem"
    key, csr, cert = d / f"{name}.key", d / f"{name}.csr", d / f"{name}.pem"
    run = lambda *a: subprocess.run(a, check=True, capture_output=True)  # noqa: E731
    run(OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-keyout", str(ca_key), "-out", str(ca), "-subj", f"/CN=test CA {name}")  # fmt: skip
    run(OPENSSL, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr),
        "-subj", "/CN=ldap test server")  # fmt: skip
    ext = d / f"{name}.ext"
    ext.write_text(f"subjectAltName={san}\nbasicConstraints=CA:FALSE\n")
    run(OPENSSL, "x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
        "-CAcreateserial", "-days", "2", "-out", str(cert), "-extfile", str(ext))  # fmt: skip
    return ca, cert, key


SLAPD_CONF = """\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
{modules}
pidfile  {d}/slapd.pid
argsfile {d}/slapd.args
TLSCACertificateFile  {ca}
TLSCertificateFile    {cert}
TLSCertificateKeyFile {key}
sizelimit unlimited

database mdb
maxsize 4294967296
suffix "{base}"
rootdn "{rootdn}"
rootpw {rootpw}
directory {d}/db
dbnosync
index objectClass eq
index uid,cn,member,entryUUID eq
{memberof_index}
{limits}
access to attrs=userPassword by self write by anonymous auth by * none
access to * by * read
{overlays}
"""

OVERLAYS = """\
overlay memberof
memberof-group-oc groupOfNames
memberof-member-ad member
memberof-memberof-ad memberOf
memberof-refint TRUE

overlay ppolicy
ppolicy_default "cn=default,ou=policies,{base}"
ppolicy_use_lockout
"""


@dataclass
class Slapd:
    """One slapd in a temporary directory, plain and TLS listeners on 127.0.0.1."""

    directory: Path
    port: int = 0
    tls_port: int = 0
    proc: subprocess.Popen | None = None
    ca: Path | None = None
    extra_limits: str = ""
    memberof: bool = True
    preload: list[Path] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def ldaps_url(self) -> str:
        return f"ldaps://127.0.0.1:{self.tls_port}"

    def setup(self) -> None:
        d = self.directory
        (d / "db").mkdir(parents=True, exist_ok=True)
        self.ca, cert, key = make_ca_and_cert(d, "slapd", "IP:127.0.0.1")
        modules = (
            "moduleload memberof\nmoduleload ppolicy" if self.memberof else "moduleload ppolicy"
        )
        overlays = OVERLAYS if self.memberof else OVERLAYS.split("\n\n", 1)[1]
        (d / "slapd.conf").write_text(
            SLAPD_CONF.format(
                d=d,
                ca=self.ca,
                cert=cert,
                key=key,
                base=BASE_DN,
                rootdn=ROOT_DN,
                rootpw=ROOT_PW,
                limits=self.extra_limits,
                modules=modules,
                memberof_index="index memberOf eq" if self.memberof else "",
                overlays=overlays.format(base=BASE_DN),
            )
        )
        for ldif in self.preload:
            subprocess.run(
                [SLAPADD, "-q", "-f", str(d / "slapd.conf"), "-l", str(ldif)],
                check=True,
                capture_output=True,
            )

    def start(self) -> None:
        self.port, self.tls_port = free_port(), free_port()
        self.proc = subprocess.Popen(
            [SLAPD, "-d", "0", "-f", str(self.directory / "slapd.conf"),
             "-h", f"ldap://127.0.0.1:{self.port}/ ldaps://127.0.0.1:{self.tls_port}/"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        wait_port("127.0.0.1", self.port, proc=self.proc)
        wait_port("127.0.0.1", self.tls_port, proc=self.proc)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None and self.proc.stderr:
            self.proc.stderr.close()
        self.proc = None

    def admin(self):  # -> ldap3.Connection
        import ldap3

        return ldap3.Connection(
            ldap3.Server(self.url, get_info=ldap3.NONE), ROOT_DN, ROOT_PW, auto_bind=True
        )

    def add_ldif(self, path: Path) -> None:
        subprocess.run(
            ["ldapadd", "-x", "-H", self.url, "-D", ROOT_DN, "-w", ROOT_PW, "-f", str(path)],
            check=True,
            capture_output=True,
        )


# -- Samba AD DC -----------------------------------------------------------------

SAMBA_REALM = "EXAMPLE.TEST"
SAMBA_DOMAIN_DN = "DC=example,DC=test"
SAMBA_ADMIN_PW = "Passw0rd!Admin1"
SAMBA_ADMIN_DN = f"CN=Administrator,CN=Users,{SAMBA_DOMAIN_DN}"


def claim_loopback_ip() -> tuple[str, Any]:
    """A 127.0.0.x for one Samba DC (its LDAP port is fixed at 389), and the lock
    that reserves it: two test sessions at once must not pick the same address
    (the second DC would fail to bind, and its tests would talk to the first).
    The lock is an flock, released when the holder closes it or dies."""
    import fcntl

    for last in range(60, 250):
        ip = f"127.0.0.{last}"
        lock = open(f"/tmp/pe-test-samba-{ip}.lock", "w")  # noqa: SIM115
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()
            continue
        free = True
        for port in (389, 636):
            with socket.socket() as s:
                try:
                    s.bind((ip, port))
                except PermissionError:
                    lock.close()
                    raise RuntimeError(
                        "Samba AD DC tests need root: Samba's LDAP port is fixed at 389"
                    ) from None
                except OSError:
                    free = False
        if free:
            return ip, lock
        lock.close()
    raise RuntimeError("no free loopback address for Samba")


@dataclass
class SambaDC:
    """A provisioned Samba AD DC (single process, ldap + kdc only)."""

    directory: Path
    ip: str = ""
    proc: subprocess.Popen | None = None
    ip_lock: Any = None

    @property
    def url(self) -> str:
        return f"ldap://{self.ip}"

    @property
    def ldaps_url(self) -> str:
        return f"ldaps://{self.ip}"

    @property
    def ca(self) -> Path:
        return self.directory / "private" / "tls" / "ca.pem"

    def provision(self) -> None:
        self.ip, self.ip_lock = claim_loopback_ip()
        d = self.directory
        subprocess.run(
            [SAMBA_TOOL, "domain", "provision", f"--targetdir={d}", f"--realm={SAMBA_REALM}",
             "--domain=EXAMPLE", "--server-role=dc", "--dns-backend=NONE",
             f"--adminpass={SAMBA_ADMIN_PW}", "--use-rfc2307", "--host-name=dc1",
             f"--host-ip={self.ip}", f"--option=interfaces={self.ip}/8",
             "--option=bind interfaces only=yes"],
            check=True, capture_output=True, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        for sub in ("run", "log", "cache"):
            (d / sub).mkdir(exist_ok=True)
        conf = d / "etc" / "smb.conf"
        lines = []
        for line in conf.read_text().splitlines():
            stripped = line.strip()
            if stripped.startswith(("log file", "server services")):
                continue
            lines.append(line)
            if stripped == "[global]":
                lines += [
                    "\tldap server require strong auth = no",
                    "\tserver services = ldap, kdc",
                    f"\tpid directory = {d}/run",
                    f"\tncalrpc dir = {d}/run/ncalrpc",
                    f"\twinbindd socket directory = {d}/run/winbindd",
                    f"\tlog file = {d}/log/log.%m",
                ]
        conf.write_text("\n".join(lines) + "\n")

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [SAMBA, "-s", str(self.directory / "etc" / "smb.conf"), "-i", "-M", "single"],
            stdin=subprocess.DEVNULL,
            stdout=open(self.directory / "log" / "samba.out", "wb"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )
        wait_port(self.ip, 389, timeout=60, proc=self.proc)
        # ready when the rootDSE answers
        import ldap3

        deadline = time.monotonic() + 30
        while True:
            try:
                c = ldap3.Connection(ldap3.Server(self.url, get_info=ldap3.NONE), auto_bind=True)
                c.search("", "(objectClass=*)", ldap3.BASE, attributes=["namingContexts"])
                c.unbind()
                break
            except ldap3.core.exceptions.LDAPException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        wait_port(self.ip, 636, timeout=30, proc=self.proc)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self.ip_lock is not None:
            self.ip_lock.close()
            self.ip_lock = None

    def admin(self):  # -> ldap3.Connection over ldaps (unicodePwd needs an encrypted link)
        import ssl

        import ldap3

        tls = ldap3.Tls(validate=ssl.CERT_NONE)  # fixture set-up only; the connector verifies
        server = ldap3.Server(self.ip, port=636, use_ssl=True, tls=tls, get_info=ldap3.NONE)
        return ldap3.Connection(server, SAMBA_ADMIN_DN, SAMBA_ADMIN_PW, auto_bind=True)


def tempdir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))


def rmtree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def env_with(**values: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(values)
    return env


SAMBA_USER_PW = "Passw0rd!User1"
_UAC_NORMAL = 0x200


def _pw(value: str) -> bytes:
    return f'"{value}"'.encode("utf-16-le")


def populate_samba(conn) -> dict[str, str]:
    """Users and groups for the AD tests (ldap3 adds: far faster than samba-tool).

    Returns name -> DN. Layout:
    nestedadmin -> HelpdeskL2 -> TierZeroAdmins -> Domain Admins;
    pgadmin has Domain Admins as its *primary* group (absent from memberOf);
    backupop is in the builtin Backup Operators; carol is in "Ops (Tier*0)".
    """
    import ldap3

    users = f"CN=Users,{SAMBA_DOMAIN_DN}"
    dns: dict[str, str] = {}

    def ok(what: str) -> None:
        if conn.result["result"] != 0:
            raise RuntimeError(f"{what}: {conn.result}")

    def add_ou(name: str) -> str:
        dn = f"OU={name},{SAMBA_DOMAIN_DN}"
        conn.add(dn, ["top", "organizationalUnit"], {"ou": name})
        ok(dn)
        return dn

    service_ou = add_ou("Service Accounts")

    def user(name: str, uac: int = _UAC_NORMAL, parent: str = users, **attrs) -> str:
        dn = f"CN={name},{parent}"
        values = {"sAMAccountName": name, "unicodePwd": _pw(SAMBA_USER_PW), **attrs}
        values["userAccountControl"] = str(uac)
        values["userPrincipalName"] = f"{name}@example.test"
        conn.add(dn, ["top", "person", "organizationalPerson", "user"], values)
        ok(dn)
        dns[name] = dn
        return dn

    def group(name: str, members: list[str]) -> str:
        dn = f"CN={_escape_rdn(name)},{users}"
        sam = "".join(c for c in name if c.isalnum())[:20]
        conn.add(dn, ["top", "group"], {"sAMAccountName": sam})
        ok(dn)
        if members:
            conn.modify(dn, {"member": [(ldap3.MODIFY_ADD, members)]})
            ok(f"members of {dn}")
        dns[name] = dn
        return dn

    def add_member(group_dn: str, member: str) -> None:
        conn.modify(group_dn, {"member": [(ldap3.MODIFY_ADD, [member])]})
        ok(f"add {member} to {group_dn}")

    user("nestedadmin", mail="nested.admin@example.test", employeeID="E2001")
    user("plainuser", mail="plain.user@example.test", employeeID="E2002")
    user("neverexp", _UAC_NORMAL | 0x10000)
    user("asrep", _UAC_NORMAL | 0x400000)
    user("smart", _UAC_NORMAL | 0x40000)
    user("disabled1", _UAC_NORMAL | 0x2)
    user("unconstrained", _UAC_NORMAL | 0x80000)
    user(
        "deleg",
        _UAC_NORMAL | 0x1000000,
        **{"msDS-AllowedToDelegateTo": ["cifs/fs01.example.test", "cifs/fs01"]},
    )
    user(
        "svc_sql",
        _UAC_NORMAL,
        parent=service_ou,
        servicePrincipalName=["MSSQLSvc/sql01.example.test:1433"],
        **{"msDS-SupportedEncryptionTypes": "4"},
    )
    user("pgadmin")
    user("backupop")
    user("carol")
    l2 = group("HelpdeskL2", [dns["nestedadmin"]])
    t0 = group("TierZeroAdmins", [l2])
    domain_admins = f"CN=Domain Admins,{users}"
    add_member(domain_admins, t0)
    add_member(domain_admins, dns["pgadmin"])
    conn.modify(dns["pgadmin"], {"primaryGroupID": [(ldap3.MODIFY_REPLACE, ["512"])]})
    ok("primaryGroupID")
    conn.modify(domain_admins, {"member": [(ldap3.MODIFY_DELETE, [dns["pgadmin"]])]})
    # removing a primary-group link is refused; the link stays implicit either way
    add_member(f"CN=Backup Operators,CN=Builtin,{SAMBA_DOMAIN_DN}", dns["backupop"])
    group("Ops (Tier*0)", [dns["carol"]])
    # A name that is an LDAP filter injection if a DN is pasted into a filter unescaped
    user("mallory")
    user("lockme")
    group("evil)(objectClass=*", [dns["mallory"]])
    # Samba has no SDProp: set adminCount as a DC would for a protected account
    conn.modify(dns["nestedadmin"], {"adminCount": [(ldap3.MODIFY_REPLACE, ["1"])]})
    ok("adminCount")
    return dns


def _escape_rdn(value: str) -> str:
    from ldap3.utils.dn import escape_rdn

    return escape_rdn(value)
