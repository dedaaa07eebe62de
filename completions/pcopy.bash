# SPDX-License-Identifier: BSD-2-Clause
# bash completion for pcopy, pcopy-mpi and pbatch.                -*- shell-script -*-
#
# Self-contained: it needs bash 4 and nothing from the bash-completion package. make install
# puts it in bash-completion's directory as "pcopy", with "pbatch" and "pcopy-mpi" linked to
# it, so bash-completion loads it when one of the three is first completed; or source it.
#
# Each command's options are one table below, in the order of lib/cli/cli.c's longopts[]
# and lib/cli/batchcli.c's: a line is the option's names (long, then short if any), what
# its argument is, and for pcopy "nompi" when pcopy-mpi refuses the option. Arguments:
#   -         none
#   file      a path
#   compress  one of _pcopy_compress
#   text      anything (a number, a pattern): nothing offered
# A new option is one more line; a new kind of argument, one more case in _pcopy_complete.

_pcopy_options=(
	'--backup -b       -         nompi'
	'--backup-dir      file      nompi'
	'--bwlimit         text      nompi'
	'--check           -'
	'--checksum -c     -'
	'--chmod           text'
	'--chown           text'
	'--compress        compress  nompi'
	'--copy-dest       file      nompi'
	'--delete          -'
	'--delete-excluded -'
	'--dry-run -n      -'
	'--exclude         text'
	'--exclude-from    file'
	'--existing        -'
	'--extract         -         nompi'
	'--files-from      file      nompi'
	'--filter          text'
	'--force           -'
	'--from0 -0        -'
	'--fsync           -'
	'--help -h         -'
	'--ignore-existing -'
	'--include         text'
	'--include-from    file'
	'--itemize-changes -i -      nompi'
	'--jobs -j         text'
	'--json            -'
	'--json-progress   -'
	'--link-dest       file      nompi'
	'--link-manifest   file      nompi'
	'--log-file        file      nompi'
	'--manifest        file'
	'--max-delete      text'
	'--max-size        text'
	'--min-size        text'
	'--no-acls         -'
	'--no-group        -'
	'--no-owner        -'
	'--no-perms        -'
	'--no-times        -'
	'--no-verify       -'
	'--no-xattrs       -'
	'--numeric-ids     -'
	'--one-file-system -x -'
	'--previous-manifest file    nompi'
	'--progress        -'
	'--quiet -q        -'
	'--recursive -r    -'
	'--size-only       -'
	'--stats           -'
	'--suffix          text      nompi'
	'--tar             file      nompi'
	'--unlisted        -         nompi'
	'--update -u       -'
	'--verbose -v      -'
	'--verify-manifest file      nompi'
	'--version         -'
)
_pcopy_compress='gzip bzip2 xz zstd lz4 none'

_pbatch_options=(
	'--halt-on-error   -'
	'--help -h         -'
	'--joblog          file'
	'--jobs -j         text'
	'--json            -'
	'--keep-order      -'
	'--progress        -'
	'--quiet -q        -'
	'--resume          -'
	'--tag             -'
	'--timeout         text'
	'--version         -'
)

# _pcopy_complete COMMAND TABLE-LINE...: set COMPREPLY for the word under the cursor of
# COMMAND's line (COMP_WORDS, COMP_CWORD), its options being the TABLE-LINEs.
_pcopy_complete() {
	local cmd=$1
	shift
	local cur=${COMP_WORDS[COMP_CWORD]} prev='' prefix='' arg=- kind='' line i
	local -a f names=()
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	# --option=value: bash splits the word at '=' (COMP_WORDBREAKS) into "--option" "=" "value".
	if [[ $cur == = ]]; then
		cur=''
	elif [[ $prev == = ]] && ((COMP_CWORD > 1)); then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	elif [[ $cur == --*=* ]]; then
		prev=${cur%%=*} prefix=${cur%%=*}= cur=${cur#*=}
	elif [[ $prev == -[!-]* ]]; then
		prev=-${prev: -1} # the last of a cluster of short options takes the argument
	fi

	for line in "$@"; do
		read -r -a f <<<"$line"
		[[ $cmd == pcopy-mpi && ${f[-1]} == nompi ]] && continue
		if [[ ${f[1]} == -[[:alnum:]] ]]; then
			names+=("${f[0]}" "${f[1]}")
			[[ $prev == "${f[0]}" || $prev == "${f[1]}" ]] && arg=${f[2]}
		else
			names+=("${f[0]}")
			[[ $prev == "${f[0]}" ]] && arg=${f[1]}
		fi
	done
	# The word is an option's argument, an operand (any word after "--"), or an option.
	[[ $arg != - ]] && kind=$arg
	for ((i = 1; i < COMP_CWORD; i++)); do
		[[ ${COMP_WORDS[i]} == -- ]] && kind=operand
	done
	[[ -z $kind && $cur == -* ]] && kind=option

	COMPREPLY=()
	case $kind in
	option)
		# Long names only, unless the word is a lone "-": then the short ones too.
		local -a want=()
		for i in "${names[@]}"; do
			[[ $i == --* || $cur == - ]] && want+=("$i")
		done
		mapfile -t COMPREPLY < <(compgen -W "${want[*]}" -- "$cur")
		;;
	compress)
		mapfile -t COMPREPLY < <(compgen -P "$prefix" -W "$_pcopy_compress" -- "$cur")
		;;
	text) ;;
	*) # file, operand, or an operand before "--": a path
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -P "$prefix" -f -- "$cur")
		;;
	esac
	return 0
}

_pcopy() { _pcopy_complete "$1" "${_pcopy_options[@]}"; }
_pbatch() { _pcopy_complete "$1" "${_pbatch_options[@]}"; }

complete -F _pcopy pcopy pcopy-mpi
complete -F _pbatch pbatch
