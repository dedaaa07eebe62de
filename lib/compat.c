/* compat: portability fallbacks behind configure's HAVE_* probes (see compat.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#ifdef HAVE_SYS_PRCTL_H
#include <sys/prctl.h>
#endif

#include "compat.h"

int compat_parent_death_signal(int sig)
{
#if defined(HAVE_PRCTL) && defined(PR_SET_PDEATHSIG)
	return prctl(PR_SET_PDEATHSIG, sig);
#else
	(void)sig;
	errno = ENOSYS;
	return -1;
#endif
}

ssize_t compat_copy_range(int in, int out, size_t len)
{
#ifdef HAVE_COPY_FILE_RANGE
	return copy_file_range(in, NULL, out, NULL, len, 0);
#else
	(void)in;
	(void)out;
	(void)len;
	errno = ENOSYS;
	return -1;
#endif
}

void compat_sequential(int fd)
{
#ifdef HAVE_POSIX_FADVISE
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#else
	(void)fd;
#endif
}
