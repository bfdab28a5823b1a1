/* it_host.h -- what the machine running the cases offers them: enough
 * file descriptors, an IPv6 loopback, a port of a case's own. */
#ifndef RICOCHET_IT_HOST_H
#define RICOCHET_IT_HOST_H

/* Make sure the soft RLIMIT_NOFILE is at least want (up to the hard
 * limit); returns the limit now in force, or -1 when unknown. */
long it_host_raise_nofile(long want);
/* 1 when a socket can bind [::1]. */
int it_host_have_ipv6_loopback(void);
/* A listening TCP socket on 127.0.0.1 (port 0: any), its port in *port.
 * The caller closes it. Fails the case when that does not work. */
int it_host_listen_local(int *port);

#endif
