#!/usr/bin/env bash
# An environment proxy (http_proxy, as the README's fencing drop-in sets
# https_proxy) carries the API calls but never a url result's download:
# through a proxy, the connect-time address check would see only the
# proxy's address, and the proxy would fetch any internal host. Here a
# small logging proxy on loopback forwards the edit request; the url result
# on 127.0.0.2 is refused (url_refused) and the proxy never sees it.
. "$(dirname "$0")/lib.sh"

start_fake --image-bytes 20000
use_gateway # url results are dall-e-2's, shut down at OpenAI: a gateway that still serves it
"$IMGEDITCTL" init >/dev/null
mkpng "$T/sq.png" 64 64

PROXY_LOG=$T/proxy.log
python3 - "$T/proxy.port" "$PROXY_LOG" <<'PY' 2>"$T/proxy.err" &
import http.client, http.server, socketserver, sys, urllib.parse
portfile, logpath = sys.argv[1], sys.argv[2]
class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def forward(self):
        with open(logpath, "a") as f:
            f.write("%s %s\n" % (self.command, self.path))
        u = urllib.parse.urlsplit(self.path)
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        hdrs = {k: v for k, v in self.headers.items()
                if k.lower() not in ("proxy-connection", "connection")}
        c.request(self.command, u.path + ("?" + u.query if u.query else ""),
                  body, hdrs)
        r = c.getresponse()
        data = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("transfer-encoding", "connection",
                                 "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    do_GET = do_POST = forward
    def do_CONNECT(self):
        import select, socket
        with open(logpath, "a") as f:
            f.write("CONNECT %s\n" % self.path)
        host, port = self.path.rsplit(":", 1)
        try:
            up = socket.create_connection((host.strip("[]"), int(port)), 10)
        except OSError:
            self.send_error(502)
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        a = self.connection
        while True:
            r, _, _ = select.select([a, up], [], [], 10)
            if not r:
                break
            for s in r:
                d = s.recv(65536)
                if not d:
                    up.close()
                    return
                (up if s is a else a).sendall(d)
        up.close()
srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Proxy)
open(portfile, "w").write(str(srv.server_address[1]))
srv.serve_forever()
PY
EXTRA_PIDS="$!"
for i in $(seq 1 100); do [ -s "$T/proxy.port" ] && break; sleep 0.05; done
[ -s "$T/proxy.port" ] || fail "the proxy did not start: $(cat "$T/proxy.err")"
proxy=http://127.0.0.1:$(cat "$T/proxy.port")

other=$("$IMGEDITCTL" submit -p "other host [[fault:url-host=127.0.0.2]]" \
	--model dall-e-2 --response-format url --no-stream \
	--max-attempts 3 "$T/sq.png")
http_proxy=$proxy HTTP_PROXY=$proxy https_proxy=$proxy ALL_PROXY=$proxy \
	no_proxy= NO_PROXY= start_daemon --concurrency 1 --retry-base 100ms
wait_jobs_done 30
stop_daemon

grep -q "^POST http://127.0.0.1:$FAKE_PORT/" "$PROXY_LOG" 2>/dev/null ||
	fail "the edit request did not go through the environment's proxy: $(cat "$PROXY_LOG" 2>/dev/null)"
if grep -q "127.0.0.2" "$PROXY_LOG"; then
	fail "the proxy was asked for the internal host: $(cat "$PROXY_LOG")"
fi
assert_eq "$(sql "SELECT state || ',' || attempts || ',' || error_type FROM jobs WHERE id=$other")" \
	"failed,1,url_refused" "the url result on 127.0.0.2 behind a proxy"
sql "SELECT error_message FROM jobs WHERE id=$other" | grep -q "internal address (127.0.0.2)" ||
	fail "error: $(sql "SELECT error_message FROM jobs WHERE id=$other")"
assert_eq "$(sql "SELECT count(*) FROM images WHERE job_id=$other")" 0 "images of the refused job"

# Without a proxy, the own-address exception (the fake upstream serves its
# own url results) holds for the base URL's address AND port: another
# service on the same loopback address is refused before connecting.
port_job=$("$IMGEDITCTL" submit -p "other port [[fault:url-port=$(cat "$T/proxy.port")]]" \
	--model dall-e-2 --response-format url --no-stream \
	--max-attempts 3 "$T/sq.png")
own=$("$IMGEDITCTL" submit -p "own host" --model dall-e-2 \
	--response-format url --no-stream --max-attempts 3 "$T/sq.png")
: >"$PROXY_LOG"
start_daemon --concurrency 1 --retry-base 100ms
wait_jobs_done 30
stop_daemon
assert_eq "$(sql "SELECT state || ',' || attempts || ',' || error_type FROM jobs WHERE id=$port_job")" \
	"failed,1,url_refused" "the url result on the base address but another port"
sql "SELECT error_message FROM jobs WHERE id=$port_job" | grep -q "internal address (127.0.0.1)" ||
	fail "error: $(sql "SELECT error_message FROM jobs WHERE id=$port_job")"
assert_eq "$(sql "SELECT state FROM jobs WHERE id=$own")" succeeded "the url on the base's own address and port"
assert_eq "$(wc -c <"$PROXY_LOG")" 0 "requests the other port (the proxy) saw"

# An operator's download proxy (download-proxy): the url's host is resolved
# and checked here, then the proxy is asked to CONNECT to that address,
# never to resolve a name itself; an internal address is refused before
# the proxy hears of it.
inner=$("$IMGEDITCTL" submit -p "inner host [[fault:url-host=127.0.0.2]]" \
	--model dall-e-2 --response-format url --no-stream \
	--max-attempts 3 "$T/sq.png")
named=$("$IMGEDITCTL" submit -p "by name [[fault:url-host=localhost]]" \
	--model dall-e-2 --response-format url --no-stream \
	--max-attempts 3 "$T/sq.png")
: >"$PROXY_LOG"
start_daemon --concurrency 1 --retry-base 100ms --download-proxy "$proxy"
wait_jobs_done 30
stop_daemon
assert_eq "$(sql "SELECT state || ',' || attempts || ',' || error_type FROM jobs WHERE id=$inner")" \
	"failed,1,url_refused" "the url result on 127.0.0.2 with a download proxy"
assert_eq "$(sql "SELECT state FROM jobs WHERE id=$named")" succeeded \
	"the url result by name through the download proxy: $(sql "SELECT error_message FROM jobs WHERE id=$named")"
assert_eq "$(cat "$PROXY_LOG")" "CONNECT 127.0.0.1:$FAKE_PORT" "what the download proxy was asked"
assert_eq "$(sql "SELECT count(*) FROM images WHERE job_id=$named AND kind='final'")" 1 "the final fetched through the tunnel"
pass "the API call went through the proxy; the internal url result did not, and was refused"
