"""Normalise webhook sink records (sink.py output) for comparison.

usage: notifycmp.py norm FILE     the successful notifications, one per
                                  line, without times of arrival or
                                  externalURL, by group (each group's in
                                  the order sent)
       notifycmp.py count FILE    how many successful notifications
"""
import json
import sys


def records(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                r = json.loads(line)
                if not r.get("failed"):
                    out.append(r)
    except FileNotFoundError:
        pass
    return out


def norm(r):
    b = dict(r["body"])
    b.pop("externalURL", None)
    b["path"] = r["path"]
    return json.dumps(b, sort_keys=True)


if sys.argv[1] == "norm":
    # groups flush independently: keep each group's order, not the
    # interleaving
    recs = sorted(records(sys.argv[2]),
                  key=lambda r: (r["body"]["groupKey"], r["path"]))
    for r in recs:
        print(norm(r))
elif sys.argv[1] == "count":
    print(len(records(sys.argv[2])))
else:
    sys.exit(__doc__)
