#!/usr/bin/env bash
# README, the man page and submit --help name the models and output formats
# of the table (daemon/models.c): every current family, every output
# format, and each shut-down family with its own date (the first date
# after its name).
. "$(dirname "$0")/lib.sh"

"$IMGEDITCTL" submit --help >"$T/help.txt"
python3 - "$SRCDIR" "$T/help.txt" <<'PY'
import re, sys
src, help_path = sys.argv[1], sys.argv[2]
table = open(src + "/daemon/models.c").read()
current = re.findall(r'\{ "([a-z0-9.-]+)", NULL,', table) + re.findall(r'GPT25_ROW\("([a-z0-9.-]+)"', table)
shut = re.findall(r'\{ "([a-z0-9.-]+)", "(\d{4}-\d\d-\d\d)"', table) + \
    re.findall(r'GPT1_ROW\("([a-z0-9.-]+)", "(\d{4}-\d\d-\d\d)"', table)
formats = set()
for lst in re.findall(r'outputs(?:_gif)?\[\] = \{([^}]*)\}', table):
    formats |= set(re.findall(r'"([a-z]+)"', lst))
assert len(current) == 5 and len(shut) == 6 and formats == {"png", "jpeg", "webp", "gif"}, (current, shut, formats)
docs = {"README.md": open(src + "/README.md").read(),
        "man/imgeditctl.1": open(src + "/man/imgeditctl.1").read().replace("\\-", "-"),
        "submit --help": open(help_path).read()}
bad = []
for name, text in docs.items():
    flat = " ".join(text.split())
    for m in current:
        if not re.search(re.escape(m) + r"(?![-.0-9a-z])", flat):
            bad.append("%s lacks the model %s" % (name, m))
    for f in formats:
        if not re.search(r"\b%s\b" % f, flat):
            bad.append("%s lacks the output format %s" % (name, f))
    if name != "submit --help":
        for m, date in shut:
            if not re.search(re.escape(m) + r"(?![-.0-9a-z])(?:(?!\d{4}-\d\d-\d\d).){0,120}?" + date, flat):
                bad.append("%s lacks %s's shutdown %s" % (name, m, date))
    for m in re.findall(r"--model (gpt-image-[0-9a-z.-]+|dall-e-[0-9])", flat):
        if m not in current:
            bad.append("%s's example uses %s, not a current model" % (name, m))
if bad:
    print("\n".join(bad))
    sys.exit(1)
PY
pass "README, imgeditctl(1) and submit --help agree with the model table"
