/* it_fd.h -- descriptor plumbing the harness files share: flags, a bounded
 * poll of one descriptor, a whole file read back. */
#ifndef RICOCHET_IT_FD_H
#define RICOCHET_IT_FD_H

#include <stddef.h>

/* Set FD_CLOEXEC: the servers this runner spawns inherit only their
 * stdin, stdout and stderr. Errors are ignored. */
void it_fd_cloexec(int fd);
/* Set O_NONBLOCK. Errors are ignored. */
void it_fd_nonblock(int fd);
/* poll() fd for events, retrying on EINTR for up to timeout_ms in all.
 * Returns revents, 0 on timeout; fails the case on any other error. */
int it_fd_poll(int fd, short events, int timeout_ms);
/* Read the whole file behind fd from offset 0 (pread: the file position
 * is left alone). *out is malloc'ed and NUL-terminated, *out_len bytes
 * long; the caller frees it. Fails the case when out of memory. */
void it_fd_read_all(int fd, char **out, size_t *out_len);

#endif
