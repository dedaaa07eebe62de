#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The shell completions (completions/): in a plain bash, with nothing of the bash-completion
# package, pcopy and pbatch complete their options, --compress's names and file arguments;
# the options offered are exactly those --help lists; bash-completion's loader finds the
# completion under each command's name; zsh (when installed) completes from _pcopy/_pbatch.
. "$(dirname "$0")/../../lib.sh"
SRCDIR=${SRCDIR:-$TOP}
PBATCH=${PBATCH:-$TOP/pbatch}
BASHCOMP=$SRCDIR/completions/pcopy.bash

# comp WORD...: what bash offers for the last WORD of the command line WORD... (the first
# being the command), one per line, from a fresh bash that sourced only the completion.
comp() {
	bash --norc --noprofile -c '
		. "$0" || exit 1
		COMP_WORDS=("$@") COMP_CWORD=$(($# - 1)) COMP_LINE="$*" COMP_POINT=${#COMP_LINE}
		spec=$(complete -p "$1") || exit 1
		fn=${spec##*-F } fn=${fn%% *}
		"$fn" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}"' "$BASHCOMP" "$@"
}
# offers WORD... => EXPECTED...: the completion of WORD... is exactly EXPECTED, in any order.
offers() {
	local -a words=()
	while [ "$1" != "=>" ]; do words+=("$1"); shift; done
	shift
	local got want
	got=$(comp "${words[@]}" | sort)
	want=$(printf '%s\n' "$@" | sort)
	[ "$got" = "$want" ] || { echo "for '${words[*]}' got: $(echo $got), want: $*"; return 1; }
}

check "complete -p names pcopy's function" \
	bash --norc --noprofile -c '. "$0" && complete -p pcopy | grep -q -- "-F _pcopy pcopy$"' "$BASHCOMP"
check "complete -p names pbatch's and pcopy-mpi's" \
	bash --norc --noprofile -c '. "$0" && complete -p pbatch pcopy-mpi >/dev/null' "$BASHCOMP"
check "pcopy --com completes --compress" offers pcopy --com "=>" --compress
check "pcopy --compress offers the compressions" \
	offers pcopy --compress '' "=>" gzip bzip2 xz zstd lz4 none
check "pcopy --compress z" offers pcopy --tar a.tar --compress z "=>" zstd
check "pcopy --compress=x (split at '=')" offers pcopy --compress = x "=>" xz
check "pbatch --jo completes --joblog and --jobs" offers pbatch --jo "=>" --joblog --jobs
check "pcopy -j takes a number: nothing offered" offers pcopy -j '' "=>"
check "short options after a lone -" eval 'comp pcopy - | grep -qx -- -j'

mkdir -p dir/sub
: >dir/manifest.xxh128
: >dir/jobs.log
: >./--cx
check "pcopy --manifest completes a file" offers pcopy --manifest dir/ma "=>" dir/manifest.xxh128
check "pcopy --verify-manifest completes a file" \
	offers pcopy --extract --verify-manifest dir/ma "=>" dir/manifest.xxh128
check "pbatch --joblog completes a file" offers pbatch -j 4 --joblog dir/j "=>" dir/jobs.log
check "pcopy's operands are paths" offers pcopy -c dir/s "=>" dir/sub
check "pbatch's operand is a path" offers pbatch dir/jo "=>" dir/jobs.log
check "after -- a word with a dash is a path" offers pcopy -- --c "=>" --cx
check "pcopy-mpi does not offer --tar" eval '! comp pcopy-mpi --t | grep -q .'
check "pcopy-mpi offers --check" offers pcopy-mpi --chec "=>" --check --checksum

# The options offered are those --help lists, no more, no fewer.
help_opts() { "$1" --help | grep -oE '^ +(-[a-zA-Z0-9], )?--[a-z0-9-]+' | tr -d ' ,' | tr , '\n' |
	sed 's/^\(-[a-zA-Z0-9]\)\(--\)/\1\n\2/' | sort; }
same_opts() {
	local help offered
	help=$(help_opts "$2")
	offered=$(comp "$1" - | sort)
	[ "$help" = "$offered" ] || { diff <(echo "$help") <(echo "$offered"); return 1; }
}
check "pcopy's completion offers exactly --help's options" same_opts pcopy "$PCOPY"
check "pbatch's completion offers exactly --help's options" same_opts pbatch "$PBATCH"
PCOPY_MPI=${PCOPY_MPI:-$TOP/pcopy-mpi}
[ -x "$PCOPY_MPI" ] && mpi_env # Open MPI's allocations at exit, under the sanitizer pass
if [ -x "$PCOPY_MPI" ]; then
	check "pcopy-mpi's completion offers exactly its --help's options" \
		same_opts pcopy-mpi "$PCOPY_MPI"
else
	skip "built without MPI: pcopy-mpi's completion against its --help"
fi

# bash-completion's loader: each command's completion is found by its name in a directory
# laid out as make install lays it out (one file, links for the other two).
if [ -f /usr/share/bash-completion/bash_completion ]; then
	mkdir -p xdg/bash-completion/completions
	cp "$BASHCOMP" xdg/bash-completion/completions/pcopy
	ln -s pcopy xdg/bash-completion/completions/pbatch
	ln -s pcopy xdg/bash-completion/completions/pcopy-mpi
	for c in pcopy pbatch pcopy-mpi; do
		check "bash-completion loads $c's completion" env XDG_DATA_HOME="$T/xdg" \
			bash --norc --noprofile -c '. /usr/share/bash-completion/bash_completion &&
				_completion_loader "$0"; complete -p "$0" | grep -q -- "-F _p"' "$c"
	done
else
	skip "bash-completion is not installed: its loader is not tried"
fi

# zsh: complete a line in an interactive zsh on a pseudo-terminal (zsh/zpty) with _pcopy and
# _pbatch on its fpath; a compadd wrapper prints each match as <<MATCH>>.
cat >zcomp.zsh <<'ZSH'
zmodload zsh/zpty || exit 1
dir=$1 line=$2
# wait_for TEXT: read the terminal until TEXT has been seen (10 s at most).
wait_for() {
	local chunk i
	for i in {1..100}; do
		while zpty -r -t z chunk; do out+=$chunk; done
		[[ $out == *$1* ]] && return 0
		sleep 0.1
	done
	return 1
}
out=
zpty z zsh -f -i
zpty -w z "PS1='' RPROMPT=''; fpath=(${(q)dir} \$fpath)"
zpty -w z 'autoload -Uz compinit && compinit -u -D'
zpty -w z 'compadd() { local -a __m; builtin compadd -O __m "$@"; print -rl -- "<<"${^__m}">>" >/dev/tty; builtin compadd "$@"; }'
zpty -w z 'bindkey "^I" complete-word; print REA""DY'
wait_for READY || exit 1
sleep 0.5 # zle drops what is typed before it draws its prompt
out=
zpty -w -n z "$line"$'\t'
wait_for '>>'
zpty -w z $'\C-e\C-u'"print EN''D"
wait_for END
zpty -d z
print -r -- "$out" | grep -ao '<<[^<>]*>>' | sed 's/^<<//; s/>>$//' | sort -u
ZSH
zcomp() { timeout 60 zsh -f zcomp.zsh "$SRCDIR/completions" "$1"; }
if command -v zsh >/dev/null 2>&1 && zsh -f -c 'zmodload zsh/zpty' 2>/dev/null; then
	check "zsh: pcopy --com completes --compress" eval 'zcomp "pcopy --com" | grep -qx -- --compress'
	check "zsh: pcopy --compress offers zstd" eval 'zcomp "pcopy --compress " | grep -qx zstd'
	check "zsh: pbatch --jo offers --joblog" eval 'zcomp "pbatch --jo" | grep -qx -- --joblog'
	check "zsh: pcopy --manifest completes a file" \
		eval 'zcomp "pcopy --manifest dir/ma" | grep -qx manifest.xxh128'
else
	skip "zsh (with zsh/zpty) is not installed"
fi
finish
