#!/usr/bin/env bash
# serve --token FILE: without the token (Authorization: Bearer, or the
# cookie a ?token= link sets) nothing is shown; --allow-host limits the
# Host names it answers to on any bind; images are Cache-Control: private
# and Cross-Origin-Resource-Policy: same-origin. The daemon's /metrics
# checks Host too: loopback names on a loopback bind, else metrics-allow-host.
. "$(dirname "$0")/lib.sh"

start_fake
"$IMGEDITCTL" init >/dev/null
mkpng "$T/in.png" 64 64
job=$("$IMGEDITCTL" submit -p "secret prompt" --model gpt-image-2.5-sunburst "$T/in.png")
echo "metrics-listen = 127.0.0.1:0" >"$T/d.conf"
echo "metrics-allow-host = metrics.test" >>"$T/d.conf"
start_daemon --config "$T/d.conf"
wait_jobs_done 20
MPORT=$(sed -n 's/.*metrics_listen address=127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$DAEMON_LOG")
[ -n "$MPORT" ] || fail "no metrics_listen line in the log"
mcode() { curl -sS -o /dev/null -w '%{http_code}' -H "Host: $1" "http://127.0.0.1:$MPORT/metrics"; }
assert_eq "$(mcode metrics.test:9464)" 200 "/metrics with an allowed Host"
assert_eq "$(mcode evil.example)" 403 "/metrics with another Host"
assert_eq "$(mcode 127.0.0.1)" 403 "/metrics with a loopback Host not in metrics-allow-host"
stop_daemon
# without metrics-allow-host, a loopback bind answers loopback names only
echo "metrics-listen = 127.0.0.1:0" >"$T/d2.conf"
start_daemon --config "$T/d2.conf"
MPORT=$(sed -n 's/.*metrics_listen address=127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$DAEMON_LOG" | tail -1)
assert_eq "$(mcode "127.0.0.1:$MPORT")" 200 "/metrics by its loopback address"
assert_eq "$(mcode rebound.example)" 403 "/metrics through a rebound name"
stop_daemon

printf 'tok-%s\n' "$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$T/token"
chmod 0644 "$T/token"
rc=0
"$IMGEDITCTL" serve --listen 127.0.0.1:0 --token "$T/token" >/dev/null 2>"$T/bad.err" || rc=$?
assert_eq "$rc" 2 "serve with a world-readable token file"
grep -q "token" "$T/bad.err" || fail "no word about the token file: $(cat "$T/bad.err")"
chmod 0600 "$T/token"
TOKEN=$(head -1 "$T/token")

start_serve --token "$T/token" --allow-host example.test --allow-host 127.0.0.1
U=${SERVE_URL%/}
req() { # NAME PATH [CURL ARGS]: status; headers in $T/NAME.h, body in $T/NAME
	curl -sS -o "$T/$1" -D "$T/$1.h" -w '%{http_code}' "${@:3}" "$U$2"
}
hdr() { sed -n "s/^$2: //Ip" "$T/$1.h" | tr -d '\r' | head -1; }
assert_eq "$(req none /)" 401 "/ without the token"
grep -q "secret prompt" "$T/none" && fail "the page showed the prompt without the token"
assert_eq "$(req img0 "/images/1")" 401 "an image without the token"
assert_eq "$(req bad / -H "Authorization: Bearer nope")" 401 "/ with a wrong token"
assert_eq "$(req bearer / -H "Authorization: Bearer $TOKEN")" 200 "/ with the token"
grep -q "secret prompt" "$T/bearer" || fail "the page with the token lacks the prompt"
# a link with ?token= sets the cookie and sends the browser on without it
assert_eq "$(req link "/jobs/$job?token=$TOKEN")" 303 "?token="
cookie=$(hdr link Set-Cookie)
case $cookie in "imgedit_token=$TOKEN;"*HttpOnly*SameSite=Strict*) ;;
	*) fail "Set-Cookie: $cookie" ;; esac
assert_eq "$(hdr link Location)" "/jobs/$job" "the redirect drops the token"
assert_eq "$(req cookie "/jobs/$job" -H "Cookie: a=b; imgedit_token=$TOKEN")" 200 "the job page with the cookie"
img=$(sql "SELECT min(id) FROM images WHERE job_id=$job")
assert_eq "$(req img "/images/$img" -H "Cookie: imgedit_token=$TOKEN")" 200 "an image with the cookie"
case $(hdr img Cache-Control) in private*) ;; *) fail "image Cache-Control: $(hdr img Cache-Control)" ;; esac
assert_eq "$(hdr img Cross-Origin-Resource-Policy)" same-origin "image CORP"
assert_eq "$(hdr cookie Cross-Origin-Resource-Policy)" same-origin "page CORP"
# Host allowlist: on any bind, with or without the token
assert_eq "$(req h1 / -H "Authorization: Bearer $TOKEN" -H "Host: example.test:8080")" 200 "an allowed Host"
assert_eq "$(req h2 / -H "Authorization: Bearer $TOKEN" -H "Host: evil.example")" 403 "another Host"
assert_eq "$(req h3 / -H "Authorization: Bearer $TOKEN" -H "Host: localhost")" 403 "a loopback name not allowed"
stop_serve
pass "token by header and cookie, ?token= redirect, Host allowlists on serve and /metrics, private caching, CORP"
