"""Normalise e-mail and Slack notifications for comparison.

usage: mailcmp.py mail FILE    smtpsink.py records, one per line: envelope,
                               the headers that carry content (Subject, To,
                               From, X-*, raw Subject), the decoded parts;
                               sorted (groups flush independently)
       mailcmp.py slack FILE   sink.py records of Slack posts: path and
                               body, sorted
       mailcmp.py count FILE   how many records
       mailcmp.py check FILE   every message has Date, Message-Id,
                               MIME-Version 1.0 and a multipart/alternative
                               Content-Type with a boundary; exit 1 if not
"""
import json
import re
import sys


def records(path):
    try:
        with open(path) as f:
            return [json.loads(line) for line in f]
    except FileNotFoundError:
        return []


def raw_header(raw, name):
    m = re.search(r"^" + name + r": (.*?)\r?$", raw, re.M | re.I)
    return m.group(1) if m else None


cmd, path = sys.argv[1], sys.argv[2]
recs = records(path)
if cmd == "mail":
    out = []
    for r in recs:
        h = {k: v for k, v in r["headers"].items()
             if k in ("Subject", "To", "From") or k.startswith("X-")}
        out.append(json.dumps({"from": r["from"], "rcpt": r["rcpt"],
                               "auth": r["auth"], "headers": h,
                               "rawSubject": raw_header(r["raw"], "Subject"),
                               "parts": r["parts"]}, sort_keys=True))
    for line in sorted(out):
        print(line)
elif cmd == "slack":
    out = [json.dumps({"path": r["path"], "body": r.get("body")},
                      sort_keys=True) for r in recs if not r.get("failed")]
    for line in sorted(out):
        print(line)
elif cmd == "count":
    print(len([r for r in recs if not r.get("failed")]))
elif cmd == "check":
    for r in recs:
        h = r["headers"]
        ok = ("Date" in h and re.match(r"^<\d+\.\d+@.+>$", h.get("Message-Id", ""))
              and h.get("MIME-Version") == "1.0"
              and re.match(r"^multipart/alternative;\s+boundary=[0-9a-f]{60}$",
                           h.get("Content-Type", "")))
        if not ok:
            print("bad message headers:", json.dumps(h))
            sys.exit(1)
else:
    sys.exit(__doc__)
