// Linux headers that Swift's Glibc module does not bring in (epoll, eventfd), and a few
// helpers that need _GNU_SOURCE. SwiftNIO carries the same kind of shim (CNIOLinux).
#ifndef COREPL_CLINUX_H
#define COREPL_CLINUX_H

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

/// The symbolic name of an errno value ("EADDRINUSE"), or NULL if unknown.
const char *corepl_errno_name(int code);

/// accept4(2), which glibc declares only under _GNU_SOURCE.
int corepl_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);

#endif
