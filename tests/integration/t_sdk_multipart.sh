#!/usr/bin/env bash
# The multipart imgeditd sends for an edit with every new field (two
# images, markup, complexity, quality max, gif with frames, a safety
# identifier) against what the official Node SDK (openai 7.55.0, the
# bench's peer) sends for the same call: the same fields with the same
# values, and the same file parts, the images in the same order. Without
# node, or the SDK where npm cannot fetch it, it exits 77 (SKIP).
. "$(dirname "$0")/lib.sh"

skip() { echo "SKIP $TEST_NAME: $*"; exit 77; }
command -v node >/dev/null || skip "node is not installed"
# the bench's peer (t_bench_smoke installs it), else the same package.json
# installed here
SDK=$SRCDIR/build/peer/node_modules/openai
if [ ! -f "$SDK/package.json" ]; then
	command -v npm >/dev/null || skip "npm is not installed"
	cp "$SRCDIR/tests/peer/package.json" "$T/"
	npm install --prefix "$T" --no-audit --no-fund --loglevel=error >"$T/npm.log" 2>&1 ||
		skip "npm install of the SDK failed (no network?): $(tail -1 "$T/npm.log")"
	SDK=$T/node_modules/openai
fi
[ -f "$SDK/package.json" ] || skip "no SDK in $SDK"

start_fake --image-bytes 20000
"$IMGEDITCTL" init >/dev/null
mkpng "$T/a.png" 64 64
mkpng "$T/b.png" 64 64
mkpng "$T/k.png" 64 64 rgba
"$IMGEDITCTL" submit -p "same call" --model gpt-image-2.6-sunburst --markup "$T/k.png" \
	--complexity high --quality max --output-format gif --frame-count 4 \
	--frame-duration-ms 150 --safety-identifier user-hash-1 --size 1536x864 --n 2 \
	"$T/a.png" "$T/b.png" >/dev/null
start_daemon
wait_jobs_done 30
stop_daemon

cat >"$T/sdk.mjs" <<JS
import OpenAI, { toFile } from "$SDK/index.mjs";
import fs from "node:fs";
const client = new OpenAI({ apiKey: "sk-test", baseURL: process.argv[2], maxRetries: 0 });
const file = (p, n) => toFile(fs.readFileSync(p), n, { type: "image/png" });
await client.images.edit({
	model: "gpt-image-2.6-sunburst", prompt: "same call",
	image: [await file("$T/a.png", "a.png"), await file("$T/b.png", "b.png")],
	markup: await file("$T/k.png", "k.png"),
	complexity: "high", quality: "max", output_format: "gif", frame_count: 4,
	frame_duration_ms: 150, safety_identifier: "user-hash-1", size: "1536x864", n: 2,
});
JS
node "$T/sdk.mjs" "$BASE_URL" || fail "the SDK's call failed"
python3 - "$FAKE_LOG" >"$T/diff.txt" <<'PY' || fail "the multiparts differ: $(cat "$T/diff.txt")"
import json, sys
posts = [json.loads(l) for l in open(sys.argv[1])]
posts = [r for r in posts if r["method"] == "POST"]
assert len(posts) == 2, len(posts)
ours, sdk = posts
# the SDK sends the markup before the images (its own order of keys): the
# API names each part, so only the images' order among themselves counts
def files(r):
    return sorted(((f["name"], f["filename"], f["content_type"], f["sha256"])
        for f in r["files"]), key=lambda f: f[0])
bad = []
if ours["fields"] != sdk["fields"]:
    bad.append("fields: ours %s, the SDK's %s" % (json.dumps(ours["fields"], sort_keys=True),
        json.dumps(sdk["fields"], sort_keys=True)))
if files(ours) != files(sdk):
    bad.append("files: ours %s, the SDK's %s" % (files(ours), files(sdk)))
print(json.dumps({"fields": ours["fields"], "files": files(ours)}, sort_keys=True))
if bad:
    print("\n".join(bad))
    sys.exit(1)
PY
cat "$T/diff.txt"
pass "imgeditd's multipart has the fields and file parts the SDK sends for the same edit"
