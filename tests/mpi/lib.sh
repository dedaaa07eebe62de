# Shared helpers for the MPI tests: pcopy-mpi under mpirun, compared with single-node pcopy
# on the same trees. Without ./configure --with-mpi there is no pcopy-mpi: the test says so
# and is skipped (exit 77, automake's SKIP).
if [ -z "${PCOPY_MPI:-}" ] || [ ! -x "${PCOPY_MPI:-}" ]; then
	echo "SKIP: built without MPI (./configure --with-mpi builds pcopy-mpi)"
	exit 77
fi
if ! command -v mpirun >/dev/null 2>&1; then
	echo "SKIP: mpirun not found (apt-get install openmpi-bin)"
	exit 77
fi
. "$(dirname "$0")/../e2e/lib.sh"

# Root may run mpirun in CI containers; -q keeps mpirun's own notices off stderr so that
# pcopy-mpi's messages can be compared with pcopy's.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Under the sanitizer pass: Open MPI keeps what MPI_Init allocates until exit, and
# tests/lsan.supp names its libraries. For those names to match, LeakSanitizer needs whole
# stacks (Open MPI is built without frame pointers) and Open MPI's plugins must stay
# loaded (an unloaded one is an "<unknown module>").
if [ -n "${ASAN_OPTIONS:-}" ]; then
	export ASAN_OPTIONS="$ASAN_OPTIONS:fast_unwind_on_malloc=0"
	export OMPI_MCA_mca_base_component_disable_dlclose=1
fi
# mpi NP ARG...: pcopy-mpi on NP ranks (more ranks than CPUs is fine for tests).
mpi() {
	local np=$1
	shift
	mpirun -q --oversubscribe -np "$np" "$PCOPY_MPI" "$@"
}

# The --json summary line without its timing fields, for comparing two runs.
json_summary() {
	grep -a '"event":"summary"' "$1" | sed -e 's/"seconds":[0-9.]*,//'
}

# The --json events other than the summary, sorted (their order follows completions).
json_events() {
	grep -av '"event":"summary"' "$1" | sort
}

# Inode identity of hard links: "name inode-group" lines, inodes renumbered by first use.
link_groups() {
	(cd "$1" && find . -type f -links +1 -printf '%i %P\n' | sort -k2 |
		awk '{ if (!($1 in g)) g[$1] = ++n; print $2, g[$1] }')
}

# Ownership of every entry.
owners_of() {
	(cd "$1" && find . -mindepth 1 -printf '%P %u %g\n' | sort)
}
