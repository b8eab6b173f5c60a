"""The HAProxy configuration in front of the workers, filled in from haproxy.cfg.in."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from string import Template

TEMPLATE = Path(__file__).with_name("haproxy.cfg.in")
COOKIE = "PLAYGROUND_WORKER"  # the sticky-session cookie; its value is a worker's name


@dataclass(frozen=True)
class Worker:
    """One Streamlit process (or container) behind the proxy."""
    name: str  # w1, w2, ...: the cookie's value and the X-Playground-Worker header
    host: str  # 127.0.0.1 on one machine; a container or host name beyond it
    port: int


def render(bind: str, workers: list[Worker], cookie: str = COOKIE) -> str:
    """haproxy.cfg text: listen on bind ("0.0.0.0:8501"), balance over workers with a sticky cookie."""
    if not workers:
        raise ValueError("at least one worker is needed")
    servers = "\n".join(f"    server {w.name} {w.host}:{w.port} cookie {w.name}" for w in workers)
    return Template(TEMPLATE.read_text()).substitute(bind=bind, cookie=cookie, servers=servers)
