# tls_config.server_name (libcommon ax_rw_tls_apply, used by every HTTPS
# client of axon): a webhook receiver at https://127.0.0.1 whose
# certificate names only "axon.test" is reached with ca_file and
# server_name: axon.test, and refused without server_name (the name does
# not match 127.0.0.1), as Prometheus and Alertmanager do.
. "$(dirname "$0")/lib.sh"

command -v openssl >/dev/null || fail "openssl not installed"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/key.pem" -out "$TMP/cert.pem" -days 2 \
	-subj "/CN=axon.test" -addext "subjectAltName=DNS:axon.test" >/dev/null 2>&1 || fail "openssl req"
hp=$(freeport)
cat >"$TMP/https.py" <<'PY'
import http.server, ssl, sys
port, cert, key, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(out, "a") as f:
            f.write(self.path + "\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
s.socket = ctx.wrap_socket(s.socket, server_side=True)
s.serve_forever()
PY
start https python3 "$TMP/https.py" "$hp" "$TMP/cert.pem" "$TMP/key.pem" "$TMP/hits"
cat >"$TMP/ar.yml" <<EOC
route:
  receiver: named
  group_by: [alertname]
  group_wait: 0s
  group_interval: 10s
  routes:
    - matchers: ['alertname="Unnamed"']
      receiver: unnamed
receivers:
  - name: named
    webhook_configs:
      - url: https://127.0.0.1:$hp/named
        http_config:
          tls_config: {ca_file: $TMP/cert.pem, server_name: axon.test}
  - name: unnamed
    webhook_configs:
      - url: https://127.0.0.1:$hp/unnamed
        http_config:
          tls_config: {ca_file: $TMP/cert.pem}
EOC
port=$(freeport)
start ar "$BIN/axon-alert-router" --config.file="$TMP/ar.yml" --web.listen-address="127.0.0.1:$port" \
	--storage.path="$TMP/ard"
wait_http "http://127.0.0.1:$port/-/ready"
curl -fsS -o /dev/null -X POST -H 'Content-Type: application/json' \
	-d '[{"labels":{"alertname":"Named"}},{"labels":{"alertname":"Unnamed"}}]' "http://127.0.0.1:$port/api/v2/alerts"
for i in $(seq 40); do
	grep -q '^/named$' "$TMP/hits" 2>/dev/null && break
	sleep 0.25
done
grep -q '^/named$' "$TMP/hits" 2>/dev/null || fail "no delivery with server_name: $(grep -i 'notify failed' "$TMP/ar.log" | tail -2)"
for i in $(seq 40); do
	grep -q 'receiver=unnamed' "$TMP/ar.log" && break
	sleep 0.25
done
grep 'notify failed' "$TMP/ar.log" | grep -q 'receiver=unnamed' || fail "the unnamed receiver did not fail"
grep -q '^/unnamed$' "$TMP/hits" 2>/dev/null && fail "delivered although the certificate does not name 127.0.0.1"
pass "server_name: the certificate is checked against it (delivered), not against 127.0.0.1 (refused)"
