"""The teacher's status page: each worker's state, its students and its restarts, on loopback only.

The launcher serves it (not HAProxy's own stats page), so it stays up while HAProxy restarts and counts
restarts, which HAProxy cannot see. Students per worker are HAProxy's open connections to it (`scur` in
`show stat` on its stats socket): each open tab holds one websocket, plus a request in flight now and then.
"""
from __future__ import annotations

import html
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REFRESH_SECONDS = 2


class StatusPage:
    """An HTTP server on 127.0.0.1:port in a thread: / is a table for people, /status.json for programs."""

    def __init__(self, port: int):
        self.children, self.cluster = [], None  # serve/supervise.py's Child records and the Cluster, read-only
        self.thread: threading.Thread | None = None
        page = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path.split("?")[0] == "/status.json":
                    body, kind = json.dumps(page.rows()).encode(), "application/json"
                else:
                    body, kind = page.html().encode(), "text/html; charset=utf-8"
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):  # the teacher's terminal is for state changes only
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)  # bound now: a busy port fails at start
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"

    def watch(self, children, cluster) -> None:
        """Serve, from now on, the state of children (the supervisor's) of cluster (serve/cluster.py)."""
        self.children, self.cluster = children, cluster
        self.thread = threading.Thread(target=self.server.serve_forever, name="status", daemon=True)
        self.thread.start()

    def rows(self) -> list[dict]:
        """One record per child: name, where it listens, state, for how long, restarts, students (None: unknown)."""
        stats = self.cluster.proxy_stats() or {}  # open connections: a tab holds one (its websocket)
        sessions = {name: int(row["scur"] or 0) for name, row in stats.items()}
        now = time.monotonic()
        return [{"name": c.name, "listens": self.cluster.describe(c.name), "state": c.state,
                 "for_seconds": round(now - c.since), "restarts": c.restarts,
                 "students": sessions.get(c.name)} for c in list(self.children)]

    def html(self) -> str:
        cells = "".join(
            f"<tr><td>{html.escape(r['name'])}</td><td>{html.escape(r['listens'])}</td>"
            f"<td class='{r['state'].replace(' ', '-')}'>{html.escape(r['state'])}</td><td>{r['for_seconds']} s</td>"
            f"<td>{'' if r['students'] is None else r['students']}</td><td>{r['restarts']}</td></tr>"
            for r in self.rows())
        return (f"<!doctype html><meta charset='utf-8'><meta http-equiv='refresh' content='{REFRESH_SECONDS}'>"
                "<title>Playground: workers</title><style>body{font-family:sans-serif}td,th{padding:4px 12px;"
                "text-align:left}.up{color:#2b8a3e}.down,.restarting,.given-up{color:#c92a2a}</style>"
                "<h1>Playground workers</h1><table><tr><th>process</th><th>listens on</th><th>state</th>"
                f"<th>for</th><th>open tabs</th><th>restarts</th></tr>{cells}</table>"
                "<p>Open tabs: HAProxy's connections to that worker (a tab holds one). A dead worker's students "
                "are moved to a live one; it is restarted after 1, 2, 4 ... 10 s.</p>")

    def close(self) -> None:
        if self.thread is not None:
            self.server.shutdown()
        self.server.server_close()
