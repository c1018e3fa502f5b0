#define _GNU_SOURCE
#include <string.h>
#include <sys/socket.h>
#include "CLinux.h"

const char *corepl_errno_name(int code) {
    return strerrorname_np(code);
}

int corepl_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags) {
    return accept4(fd, addr, len, flags);
}
