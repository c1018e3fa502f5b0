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
#include <semaphore.h>
#include <time.h>
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

#define COREPL_MAX_SIGNAL 65
static volatile sig_atomic_t forward_fds[COREPL_MAX_SIGNAL];
static volatile sig_atomic_t forward_codes[COREPL_MAX_SIGNAL];

static void forward_signal(int sig) {
    int saved = errno;
    char c = (char)forward_codes[sig];
    ssize_t r = write((int)forward_fds[sig], &c, 1);
    (void)r;  /* a full pipe already holds an unread signal */
    errno = saved;
}

int corepl_forward_signal(int sig, int fd, char code) {
    if (sig <= 0 || sig >= COREPL_MAX_SIGNAL) { errno = EINVAL; return -1; }
    forward_fds[sig] = fd;
    forward_codes[sig] = code;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = forward_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (sigaction(sig, &sa, NULL) != 0) return -1;
    /* A signal mask inherited from the parent may block it: unblock it in this thread
       (threads started from here on inherit that). */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    return pthread_sigmask(SIG_UNBLOCK, &set, NULL) == 0 ? 0 : -1;
}

int corepl_spawnattr_clean_signals(posix_spawnattr_t *attr) {
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    if (posix_spawnattr_setsigmask(attr, &none) != 0) return -1;
    if (posix_spawnattr_setsigdefault(attr, &all) != 0) return -1;
    return posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
}

void corepl_unforward_signal(int sig) {
    if (sig <= 0 || sig >= COREPL_MAX_SIGNAL) return;
    signal(sig, SIG_DFL);
}

int corepl_sem_wait_nanos(sem_t *sem, uint64_t nanos) {
    struct timespec at;
    clock_gettime(CLOCK_MONOTONIC, &at);
    at.tv_sec += (time_t)(nanos / 1000000000u);
    at.tv_nsec += (long)(nanos % 1000000000u);
    if (at.tv_nsec >= 1000000000L) { at.tv_sec += 1; at.tv_nsec -= 1000000000L; }
    int r;
    while ((r = sem_clockwait(sem, CLOCK_MONOTONIC, &at)) == -1 && errno == EINTR) {}
    return r;
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
    /* A mask inherited from the parent may block SIGHUP or SIGTERM: then a hung-up
       terminal would leave corepl running (seen: four of them left behind by a test
       runner whose threads blocked signals). Unblock them in this thread, which reads
       the terminal and from which the loop thread starts. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    return 0;
}

int corepl_pipe2(int fds[2], int flags) {
    return pipe2(fds, flags);
}
