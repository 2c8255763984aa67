"""Helpers for test_alert_router_api.sh: build alert batches and compare
the API answers of axon-alert-router and Alertmanager 0.25.

usage: apicmp.py alerts          print a JSON batch of alerts (ends in 1h)
       apicmp.py norm-alerts F   normalise a GET /api/v2/alerts answer
       apicmp.py norm-groups F   normalise a GET /api/v2/alerts/groups answer
"""
import datetime
import json
import sys


def ts(delta_s):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=delta_s)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


def alerts():
    out = []
    def add(labels, ann=None, starts=-60, ends=3600):
        a = {"labels": labels, "startsAt": ts(starts), "endsAt": ts(ends),
             "generatorURL": "http://prom.example/graph"}
        if ann:
            a["annotations"] = ann
        out.append(a)
    add({"alertname": "ServiceDown", "service": "auth", "severity": "critical"},
        {"summary": "auth is down"})
    add({"alertname": "ServiceDown", "service": "auth", "severity": "warning"})
    add({"alertname": "ServiceDown", "service": "cart", "severity": "warning"})
    add({"alertname": "HighLatency", "service": "cart", "severity": "warning", "team": "db"})
    add({"alertname": "HighLatency", "service": "db", "severity": "critical", "team": "db"})
    add({"alertname": "DiskFull", "service": "db", "team": "storage", "instance": "n1"})
    add({"alertname": "NodeDown", "instance": "n1"})
    add({"alertname": "NodeDown", "instance": "n1", "job": "node"})
    add({"alertname": "NodeHighLoad", "instance": "n1"})
    add({"alertname": "NodeHighLoad", "instance": "n2"})
    add({"alertname": "Unicode", "service": "größe", "msg": "a \"quoted\" \\ value"})
    add({"alertname": "Resolved", "service": "auth"}, starts=-600, ends=-300)
    a = {"labels": {"alertname": "NoTimes", "service": "web", "empty": ""}}
    out.append(a)
    return out


def norm_alert(a):
    st = a["status"]
    return {
        "fingerprint": a["fingerprint"],
        "labels": a["labels"],
        "annotations": a.get("annotations", {}),
        "receivers": [r["name"] for r in a["receivers"]],
        "state": st["state"],
        "inhibitedBy": sorted(st["inhibitedBy"]),
        "silenced": len(st["silencedBy"]),
        "generatorURL": a.get("generatorURL", ""),
    }


def main():
    cmd = sys.argv[1]
    if cmd == "alerts":
        json.dump(alerts(), sys.stdout)
    elif cmd == "norm-alerts":
        data = json.load(open(sys.argv[2]))
        json.dump(sorted((norm_alert(a) for a in data), key=lambda x: x["fingerprint"]),
                  sys.stdout, indent=1, sort_keys=True)
    elif cmd == "norm-groups":
        data = json.load(open(sys.argv[2]))
        groups = [{"labels": g["labels"], "receiver": g["receiver"]["name"],
                   "alerts": sorted(a["fingerprint"] for a in g["alerts"])} for g in data]
        json.dump(sorted(groups, key=lambda g: (json.dumps(g["labels"], sort_keys=True), g["receiver"])),
                  sys.stdout, indent=1, sort_keys=True)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
