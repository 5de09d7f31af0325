#!/usr/bin/env bash
# The bash completion offers the verbs, each verb's options and the job
# states, and says nothing imgeditctl does not know: every verb it offers
# is one, every option it offers for a verb is in that verb's --help.
. "$(dirname "$0")/lib.sh"

comp="$SRCDIR/share/completion/imgeditctl.bash"
complete_line() { # WORDS...: what completing the last word offers
	bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _imgeditctl; echo "${COMPREPLY[*]}"' \
		_ "$comp" "$@"
}
assert_eq "$(complete_line imgeditctl sub)" submit "a verb"
assert_eq "$(complete_line imgeditctl --db q.db wa)" "wait watch" "verbs after --db"
assert_eq "$(complete_line imgeditctl list --state f)" failed "a state"
assert_eq "$(complete_line imgeditctl retry --fo)" --force "retry's option"
verbs=$(bash -c 'source "$1"; COMP_WORDS=(imgeditctl ""); COMP_CWORD=1; _imgeditctl; echo "${COMPREPLY[*]}"' _ "$comp")
for v in $verbs; do
	case $v in --*|help) continue ;; esac
	help=$("$IMGEDITCTL" "$v" --help) || fail "'$v' is offered but is no verb"
	for o in $(complete_line imgeditctl "$v" -); do
		case $o in --db|--json|--help) continue ;; esac
		grep -q -- "$o\\b" <<<"$help" || fail "'$v $o' is offered but not in '$v --help'"
	done
done
pass "verbs, options and states offered, all known to imgeditctl"
