"""The address students can reach: the teacher's PLAYGROUND_PUBLIC_URL, else this machine's network address."""
from __future__ import annotations

import ipaddress
import os
import socket
from urllib.parse import urlsplit, urlunsplit

PUBLIC_URL_VARIABLE = "PLAYGROUND_PUBLIC_URL"  # e.g. http://192.168.1.20:8501 or https://playground.school.example
LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
ROUTE_PROBE = ("10.254.254.254", 1)  # any non-local address: connect() on UDP only picks a route, sends nothing


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _usable(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return not (ip.is_loopback or ip.is_unspecified or ip.is_link_local)


def network_address() -> str | None:
    """This machine's IPv4 address on the network students share, or None when it has none."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(ROUTE_PROBE)  # UDP: no packet leaves, the kernel only chooses the outgoing interface
            address = probe.getsockname()[0]
            if _usable(address):
                return address
        except OSError:  # no route at all (e.g. a hotspot without a default gateway): ask the host name instead
            pass
    try:
        candidates = socket.gethostbyname_ex(socket.gethostname())[2]
    except OSError:
        return None
    return next((a for a in candidates if _usable(a)), None)


def public_url() -> str | None:
    """The teacher's PLAYGROUND_PUBLIC_URL without a trailing slash, or None when unset or blank."""
    value = os.environ.get(PUBLIC_URL_VARIABLE, "").strip().rstrip("/")
    return value or None


def student_url(page_url: str, public: str | None, address: str | None) -> str:
    """page_url as a student would open it.

    public (the teacher's PLAYGROUND_PUBLIC_URL) replaces the scheme, host, port and any path prefix; else a
    loopback host (localhost, 127.0.0.1, ::1) becomes address, keeping the port; else page_url is unchanged.
    """
    page = urlsplit(page_url)
    if public:
        base = urlsplit(public if "://" in public else f"http://{public}")
        path = base.path.rstrip("/") + (page.path or "/")
        return urlunsplit((base.scheme, base.netloc, path, page.query, ""))
    host = page.hostname or ""
    if address and is_loopback(host):
        netloc = f"[{address}]" if ":" in address else address
        if page.port:
            netloc += f":{page.port}"
        return urlunsplit((page.scheme or "http", netloc, page.path, page.query, ""))
    return page_url
