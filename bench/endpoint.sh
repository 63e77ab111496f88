#!/usr/bin/env bash
# shellcheck disable=SC2154 # bench_home comes from lib.sh.
# The loopback credentials endpoint (`op-aws serve`): how long it takes to answer a request for
# a cached session, over many requests (median), against a local STS stub that issues sessions.
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
bench_vault >/dev/null
# A role over the item, assumed once against a local stub (the answer is then cached).
python3 - "$bench_home" <<'PY' &
import http.server, sys, datetime
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0)); self.rfile.read(n)
        exp = (datetime.datetime.utcnow() + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = ("<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult>"
                "<Credentials><AccessKeyId>ASIABENCH</AccessKeyId><SecretAccessKey>s</SecretAccessKey>"
                f"<SessionToken>t</SessionToken><Expiration>{exp}</Expiration></Credentials>"
                "<AssumedRoleUser><AssumedRoleId>A:b</AssumedRoleId><Arn>arn:aws:sts::1:assumed-role/R/b</Arn></AssumedRoleUser>"
                "</AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>").encode()
        self.send_response(200); self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1] + "/stub.port", "w").write(str(s.server_address[1]))
s.serve_forever()
PY
stub=$!
trap 'kill $stub 2>/dev/null; cleanup' EXIT
for _ in $(seq 50); do [ -s "$bench_home/stub.port" ] && break; sleep 0.1; done
mkdir -p "$bench_home/.aws"
printf '[profile admin]\nrole_arn = arn:aws:iam::1:role/R\n' >"$AWS_CONFIG_FILE"
stub_port=$(cat "$bench_home/stub.port")
export AWS_ENDPOINT_URL_STS=http://127.0.0.1:$stub_port AWS_REGION=us-east-1
"$OP_AWS" serve --profile admin --format json >"$bench_home/vars.json" 2>/dev/null &
serve=$!
for _ in $(seq 100); do [ -s "$bench_home/vars.json" ] && break; sleep 0.1; done
python3 - "$bench_home/vars.json" "${N:-500}" <<'PY'
import json, socket, statistics, sys, time
v = json.load(open(sys.argv[1])); n = int(sys.argv[2])
url = v["AWS_CONTAINER_CREDENTIALS_FULL_URI"]; token = open(v["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]).read()
host, port = url.split("//")[1].split("/")[0].split(":")
req = f"GET /op-aws/credentials HTTP/1.1\r\nHost: {host}\r\nAuthorization: {token}\r\nConnection: close\r\n\r\n".encode()
def ask():
    s = socket.create_connection((host, int(port))); s.sendall(req)
    data = b""
    while chunk := s.recv(65536): data += chunk
    s.close(); assert data.startswith(b"HTTP/1.1 200"), data[:80]
for _ in range(20): ask()
times = []
for _ in range(n):
    t = time.perf_counter(); ask(); times.append((time.perf_counter() - t) * 1000)
print(f"endpoint: cached session, {n} requests: median {statistics.median(times):.3f} ms, p90 {sorted(times)[int(n*0.9)]:.3f} ms")
PY
kill $serve 2>/dev/null
