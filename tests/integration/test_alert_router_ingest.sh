# Alerts over nng (the axon-ruler -> alert-router contract,
# proto/axon/v1/alerts.proto): an AlertBatch is acknowledged with the
# accepted and invalid counts and the first errors; valid alerts are
# stored, shown by the API and routed to a receiver like alerts posted
# over HTTP; a wrong contract version and bytes that are not an AlertBatch
# are refused with the reason.
. "$(dirname "$0")/lib.sh"

DIR=$TOP/tests/integration/alert-router
sink=$(freeport); iport=$(freeport); arport=$(freeport)
start sink python3 "$DIR/sink.py" "$sink" "$TMP/hooks.jsonl"
cat >"$TMP/ar.yml" <<YML
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 500ms
  group_interval: 1s
receivers:
  - name: hook
    webhook_configs: [{url: "http://127.0.0.1:$sink/hook"}]
axon_alert_router:
  ingest_listen: tcp://127.0.0.1:$iport
YML
AR=http://127.0.0.1:$arport
start ar "$BIN/axon-alert-router" --config.file="$TMP/ar.yml" --web.listen-address="127.0.0.1:$arport" \
	--storage.path="$TMP/ar"
wait_http "$AR/-/ready"

now=$(date +%s%3N)
ack=$("$PEER" alert-batch "tcp://127.0.0.1:$iport" "[
 {\"labels\":{\"alertname\":\"FromRuler\",\"instance\":\"i1\"},\"annotations\":{\"summary\":\"via nng\"},\"startsAt\":$((now - 1000)),\"generatorURL\":\"http://ruler/graph\"},
 {\"labels\":{\"alertname\":\"FromRuler\",\"instance\":\"i2\"},\"startsAt\":$((now - 1000)),\"endsAt\":$((now + 60000))},
 {\"labels\":{\"alertname\":\"Bad\"},\"startsAt\":$((now)),\"endsAt\":$((now - 5000))},
 {\"labels\":{}}]") || fail "alert-batch failed"
echo "$ack" | python3 -c '
import json, sys
a = json.load(sys.stdin)
assert a["batch_id"] == 42 and a["accepted"] == 2 and a["invalid"] == 2 and not a["retry"], a
assert "alerts[2]: start time must be before end time" in a["message"], a["message"]
assert "alerts[3]: at least one label pair required" in a["message"], a["message"]
' || fail "ack: $ack"
curl -fsS "$AR/api/v2/alerts?filter=alertname%3D%22FromRuler%22" | python3 -c '
import json, sys
a = json.load(sys.stdin)
assert len(a) == 2, a
i1 = [x for x in a if x["labels"]["instance"] == "i1"][0]
assert i1["annotations"] == {"summary": "via nng"} and i1["generatorURL"] == "http://ruler/graph", i1
assert [r["name"] for r in i1["receivers"]] == ["hook"]
' || fail "alerts from nng not in the API"
for i in $(seq 40); do [ -s "$TMP/hooks.jsonl" ] && break; sleep 0.1; done
grep -q '"alertname": "FromRuler"' "$TMP/hooks.jsonl" || fail "alerts from nng not notified"
pass "AlertBatch over nng: acked 2 accepted / 2 invalid with reasons; stored, shown and notified"

ack=$("$PEER" alert-batch "tcp://127.0.0.1:$iport" '[{"labels":{"a":"b"}}]' 2)
echo "$ack" | grep -q '"invalid":1.*contract version 2; this alert router speaks 1' || fail "version: $ack"
out=$("$PEER" req "tcp://127.0.0.1:$iport" "not a protobuf")
echo "$out" | grep -q 'not an AlertBatch' || fail "garbage: $out"
curl -fsS "$AR/-/healthy" >/dev/null || fail "the alert router died on bad input"
pass "a wrong contract version and undecodable bytes are refused with the reason"
