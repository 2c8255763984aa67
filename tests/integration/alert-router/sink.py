"""A webhook receiver for the alert-router tests.

usage: sink.py PORT OUT [FAIL_FIRST [FAIL_STATUS]]

Appends one JSON line per POST to OUT: {"t": <unix seconds>, "path": ...,
"body": <the JSON body>}.  The first FAIL_FIRST requests are answered with
FAIL_STATUS (default 500) and recorded with "failed": true.
"""
import http.server
import json
import sys
import threading
import time

port, out = int(sys.argv[1]), sys.argv[2]
fail_first = int(sys.argv[3]) if len(sys.argv) > 3 else 0
fail_status = int(sys.argv[4]) if len(sys.argv) > 4 else 500
lock = threading.Lock()
seen = [0]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(n)
        with lock:
            seen[0] += 1
            failed = seen[0] <= fail_first
            rec = {"t": time.time(), "path": self.path, "failed": failed,
                   "auth": self.headers.get("Authorization", "")}
            try:
                rec["body"] = json.loads(body)
            except ValueError:
                rec["raw"] = body.decode("utf-8", "replace")
            with open(out, "a") as f:
                f.write(json.dumps(rec) + "\n")
        self.send_response(fail_status if failed else 200)
        self.end_headers()

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
