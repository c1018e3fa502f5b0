#define _GNU_SOURCE
#include <string.h>
#include <sys/socket.h>
#include <pthread.h>
#include <errno.h>
#include <spawn.h>
#include <gnu/libc-version.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <fcntl.h>
#include <termios.h>
#include <stdlib.h>
#include "CLinux.h"

const char *corepl_errno_name(int code) {
    return strerrorname_np(code);
}

int corepl_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags) {
    return accept4(fd, addr, len, flags);
}

void corepl_set_thread_name(const char *name) {
    char cut[16];
    strncpy(cut, name, 15);
    cut[15] = 0;
    pthread_setname_np(pthread_self(), cut);
}

int corepl_spawn_closefrom(posix_spawn_file_actions_t *actions, int from) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
#else
    (void)actions; (void)from;
    return ENOSYS;
#endif
}

int corepl_die_with_parent(void) {
    pid_t parent = getppid();
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return -1;
    return getppid() == parent ? 0 : -1;
}

static struct termios saved_termios;
static int saved_fd = -1;

void corepl_restore_terminal(void) {
    if (saved_fd >= 0) tcsetattr(saved_fd, TCSAFLUSH, &saved_termios);
}

static void restore_and_reraise(int sig) {
    corepl_restore_terminal();
    signal(sig, SIG_DFL);
    raise(sig);
}

int corepl_guard_terminal(int fd) {
    if (tcgetattr(fd, &saved_termios) != 0) return -1;
    saved_fd = fd;
    atexit(corepl_restore_terminal);
    int signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE, SIGTERM, SIGHUP};
    for (unsigned i = 0; i < sizeof signals / sizeof signals[0]; i++) {
        struct sigaction sa;
        sa.sa_handler = restore_and_reraise;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESETHAND;
        sigaction(signals[i], &sa, NULL);
    }
    return 0;
}

int corepl_pipe2(int fds[2], int flags) {
    return pipe2(fds, flags);
}
