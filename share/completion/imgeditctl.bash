# bash completion for imgeditctl: its verbs, each verb's options, job
# states, and files where a verb takes files.
_imgeditctl()
{
	local cur prev verb i
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}
	local verbs="init submit list show export cancel retry wait watch serve status pause resume prune copy help"
	local states="queued running retry_wait succeeded failed canceled"
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--db) ((i++)) ;;
		-*) ;;
		*) verb=${COMP_WORDS[i]}; break ;;
		esac
	done
	case $prev in
	--db|--from|--mask|-o|--output|--api-key-file)
		COMPREPLY=($(compgen -f -- "$cur")); return ;;
	--state)
		COMPREPLY=($(compgen -W "$states" -- "$cur")); return ;;
	--model)
		COMPREPLY=($(compgen -W "gpt-image-2.6-flare gpt-image-2.6-sunburst gpt-image-2.5-flare gpt-image-2.5-sunburst gpt-image-2" -- "$cur")); return ;;
	esac
	if [ -z "$verb" ]; then
		COMPREPLY=($(compgen -W "$verbs --db --help --version" -- "$cur"))
		return
	fi
	local common="--db --json --help" opts=
	case $verb in
	submit) opts="-p --prompt --model --n --size --quality --background
		--output-format --output-compression --input-fidelity
		--partial-images --response-format --user --complexity --frame-count
		--frame-duration-ms --safety-identifier --param --mask --each
		--from --stream --no-stream --priority --max-attempts --key
		--not-before" ;;
	list) opts="--state --limit --since" ;;
	export) opts="-o --output --state --since --partials --skip-existing" ;;
	cancel) opts="--state --since" ;;
	retry) opts="--state --since --force" ;;
	wait) opts="--timeout" ;;
	prune) opts="--older-than --state --dry-run" ;;
	serve) opts="--listen" ;;
	copy) opts="--batch --force" ;;
	help) COMPREPLY=($(compgen -W "$verbs" -- "$cur")); return ;;
	esac
	if [[ $cur == -* ]] || { [ "$verb" != submit ] && [ "$verb" != copy ]; }; then
		COMPREPLY=($(compgen -W "$opts $common" -- "$cur"))
	else
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
}
complete -o filenames -F _imgeditctl imgeditctl
