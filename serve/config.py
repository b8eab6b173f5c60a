"""The HAProxy configuration in front of the workers, filled in from haproxy.cfg.in."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from string import Template

TEMPLATE = Path(__file__).with_name("haproxy.cfg.in")
WORKERS_VARIABLE = "PLAYGROUND_WORKERS"  # told to each worker: how many workers share this machine's cores
COOKIE = "PLAYGROUND_WORKER"  # the sticky-session cookie; its value is a worker's name


@dataclass(frozen=True)
class Worker:
    """One Streamlit process (or container) behind the proxy."""
    name: str  # w1, w2, ...: the cookie's value and the X-Playground-Worker header
    host: str  # 127.0.0.1 on one machine; a container or host name beyond it
    port: int


def render(bind: str, workers: list[Worker], cookie: str = COOKIE, resolver: str | None = None,
           stats_socket: str | None = None) -> str:
    """haproxy.cfg text: listen on bind ("0.0.0.0:8501"), balance over workers with a sticky cookie.

    resolver ("127.0.0.11:53", Docker's DNS): look the workers' host names up again while running, so a
    restarted container with a new address is found. stats_socket: a Unix socket path where HAProxy answers
    `show stat` (the launcher's status page reads each worker's open connections there).
    """
    if not workers:
        raise ValueError("at least one worker is needed")
    servers = "\n".join(f"    server {w.name} {w.host}:{w.port} cookie {w.name}" for w in workers)
    resolvers = (f"\nresolvers dns\n    nameserver dns1 {resolver}\n    hold valid 10s\n" if resolver else "")
    stats = f"    stats socket {stats_socket} mode 600 level user\n" if stats_socket else ""
    return Template(TEMPLATE.read_text()).substitute(bind=bind, cookie=cookie, servers=servers, resolvers=resolvers,
                                                     resolve=" resolvers dns" if resolver else "", stats=stats)


def parse_worker(text: str, index: int) -> Worker:
    """HOST:PORT (or NAME=HOST:PORT) from the command line."""
    name, _, address = text.rpartition("=")
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"--worker {text!r}: expected HOST:PORT, e.g. 10.0.0.7:8501")
    return Worker(name or f"w{index + 1}", host, int(port))


def main(argv: list[str] | None = None) -> int:
    """python -m serve.config --worker HOST:PORT ...: print the configuration for workers on other machines."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m serve.config", description=main.__doc__.split(": ")[1])
    parser.add_argument("--worker", action="append", required=True, help="HOST:PORT or NAME=HOST:PORT, repeated")
    parser.add_argument("--bind", default="0.0.0.0:8501", help="where the proxy listens (default %(default)s)")
    parser.add_argument("--resolver", help="DNS server to look worker names up again, e.g. 127.0.0.11:53 in Docker")
    args = parser.parse_args(argv)
    try:
        workers = [parse_worker(text, i) for i, text in enumerate(args.worker)]
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    sys.stdout.write(render(args.bind, workers, resolver=args.resolver))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
