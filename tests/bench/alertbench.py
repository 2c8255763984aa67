"""Alert-router load for `make bench`, the same for axon-alert-router and
Alertmanager 0.25.

usage: alertbench.py ingest URL N BATCH
           POST N distinct alerts in batches of BATCH over one keep-alive
           connection; print alerts per second
       alertbench.py burst URL SINKPORT GROUPS PER_GROUP
           serve a webhook sink on SINKPORT, POST GROUPS x PER_GROUP alerts
           (label g picks the group) as fast as possible, and print the
           seconds from the first POST to the last group's notification
"""
import datetime
import http.client
import http.server
import json
import sys
import threading
import time
import urllib.parse


def conn(url):
    u = urllib.parse.urlparse(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=60)


def alerts(n, offset, group_of):
    now = datetime.datetime.now(datetime.timezone.utc)
    start = (now - datetime.timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    end = (now + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return [{"labels": {"alertname": "BenchAlert", "instance": "i%d" % (offset + i),
                        "g": "g%d" % group_of(offset + i), "severity": "warning"},
             "annotations": {"summary": "bench alert %d" % (offset + i)},
             "startsAt": start, "endsAt": end} for i in range(n)]


def post_all(url, total, batch, group_of):
    c = conn(url)
    bodies = [json.dumps(alerts(min(batch, total - k), k, group_of)).encode()
              for k in range(0, total, batch)]
    t0 = time.time()
    for b in bodies:
        c.request("POST", "/api/v2/alerts", b, {"Content-Type": "application/json"})
        r = c.getresponse()
        r.read()
        if r.status != 200:
            sys.exit("POST answered %d" % r.status)
    return t0, time.time()


def ingest(url, n, batch):
    t0, t1 = post_all(url, n, batch, lambda i: i)
    print("%.0f" % (n / (t1 - t0)))


def burst(url, port, groups, per):
    seen = set()
    done = threading.Event()
    last = [0.0]

    class H(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.add(body["groupKey"])
            last[0] = time.time()
            if len(seen) >= groups:
                done.set()
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *a):
            pass

    H.protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver

    class Srv(http.server.ThreadingHTTPServer):
        # the default listen backlog of 5 drops SYNs of concurrent
        # senders, which then retry after a second
        request_queue_size = 256

    srv = Srv(("127.0.0.1", port), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    t0, _ = post_all(url, groups * per, 500, lambda i: i % groups)
    if not done.wait(300):
        sys.exit("only %d of %d groups notified" % (len(seen), groups))
    print("%.3f" % (last[0] - t0))
    srv.shutdown()


if __name__ == "__main__":
    if sys.argv[1] == "ingest":
        ingest(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1] == "burst":
        burst(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    else:
        sys.exit(__doc__)
