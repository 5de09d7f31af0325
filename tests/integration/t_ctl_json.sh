#!/usr/bin/env bash
# --json on every verb: each prints JSON that parses and says what it did.
. "$(dirname "$0")/lib.sh"

start_fake --image-bytes 20000
mkpng "$T/a.png" 32 32
j() { # WHAT PYTHON-CHECK CMD...: runs CMD, parses its stdout as JSON
	local what=$1 check=$2 out
	shift 2
	out=$("$@") || true
	python3 -c "import json, sys; d = json.loads(sys.argv[1]); assert $check, d" "$out" ||
		fail "$what: $out"
}
jl() { # the same, one JSON object per line
	local what=$1 check=$2 out
	shift 2
	out=$("$@") || true
	python3 -c "import json, sys; d = [json.loads(l) for l in sys.argv[1].splitlines()]; assert $check, d" "$out" ||
		fail "$what: $out"
}
j init 'd["schema_version"] >= 2' "$IMGEDITCTL" init --json
j submit 'len(d) == 2 and all(x["existed"] is False for x in d)' \
	"$IMGEDITCTL" submit --json --each -p "j" --model gpt-image-2.6-flare "$T/a.png" "$T/a.png"
j submit-key 'd[0]["existed"] is False and d[0]["key"] == "k1"' \
	"$IMGEDITCTL" submit --json --key k1 -p "k" --model gpt-image-2.6-flare "$T/a.png"
j submit-again 'd[0]["existed"] is True and d[0]["id"] == 3' \
	"$IMGEDITCTL" submit --json --key k1 -p "k" --model gpt-image-2.6-flare "$T/a.png"
j list 'len(d) == 3' "$IMGEDITCTL" list --json
j show 'd["id"] == 1' "$IMGEDITCTL" show 1 --json
j status 'd["jobs"]["queued"] == 3' "$IMGEDITCTL" status --json
j pause 'd["paused"] is True and d["reason"] == "lunch"' "$IMGEDITCTL" pause --json lunch
j resume 'd["paused"] is False and d["was_paused"] is True' "$IMGEDITCTL" resume --json
j cancel 'd == [{"id": 3, "ok": True, "state": "canceled"}]' "$IMGEDITCTL" cancel --json 3
j cancel-again 'd == [{"id": 3, "ok": False, "state": "canceled"}]' "$IMGEDITCTL" cancel --json 3
j retry 'd == [{"id": 3, "ok": True, "state": "queued"}]' "$IMGEDITCTL" retry --json 3
start_daemon
jl wait 'sorted(x["id"] for x in d) == [1, 2, 3] and all(x["state"] == "succeeded" for x in d)' \
	"$IMGEDITCTL" wait --json 1 2 3 --timeout 30s
stop_daemon
j export 'len(d) == 1 and d[0]["ok"] is True' "$IMGEDITCTL" export --json 1 -o "$T/out"
j prune-dry 'd["dry_run"] is True and d["jobs"] == 3' \
	"$IMGEDITCTL" prune --json --dry-run --older-than 0s
j prune 'd["jobs"] == 3' "$IMGEDITCTL" prune --json --older-than 0s
pass "--json on init, submit, list, show, status, pause, resume, cancel, retry, wait, export, prune"
