// Linux headers that Swift's Glibc module does not bring in (epoll, eventfd), a cheap
// cycle counter, and a few helpers that need _GNU_SOURCE. SwiftNIO carries the same kind
// of shim (CNIOLinux).
#ifndef COREPL_CLINUX_H
#define COREPL_CLINUX_H

#include <semaphore.h>
#include <spawn.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>

/// Hints the CPU to bring `bytes` bytes at `p` into cache (no effect on correctness).
static inline void corepl_prefetch(const void *p, int bytes) {
    for (int i = 0; i < bytes; i += 64) __builtin_prefetch((const char *)p + i);
}

/// A cheap, monotonic cycle counter: the TSC on x86_64, the virtual counter on arm64,
/// CLOCK_MONOTONIC nanoseconds elsewhere. Swift converts it to nanoseconds.
static inline uint64_t corepl_cycles(void) {
#if defined(__x86_64__)
    return __builtin_ia32_rdtsc();
#elif defined(__aarch64__)
    uint64_t v;
    __asm__ volatile("mrs %0, cntvct_el0" : "=r"(v));
    return v;
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
#endif
}

/// The symbolic name of an errno value ("EADDRINUSE"), or NULL if unknown.
const char *corepl_errno_name(int code);

/// accept4(2), which glibc declares only under _GNU_SOURCE.
int corepl_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);

/// pthread_setname_np(3) for the calling thread (names are cut to 15 bytes).
void corepl_set_thread_name(const char *name);

/// posix_spawn_file_actions_addclosefrom_np (glibc 2.34+): close every fd >= `from` in
/// the child. Returns ENOSYS where unavailable.
int corepl_spawn_closefrom(posix_spawn_file_actions_t *actions, int from);

/// prctl(PR_SET_PDEATHSIG, SIGKILL): die when the parent process dies. Returns -1 when
/// the parent is already gone.
int corepl_die_with_parent(void);

/// sem_wait with a timeout of `nanos` on CLOCK_MONOTONIC (sem_clockwait, a GNU
/// extension). Returns 0 when the semaphore was taken, -1 with errno ETIMEDOUT otherwise.
int corepl_sem_wait_nanos(sem_t *sem, uint64_t nanos);

/// pipe2(2), which glibc declares only under _GNU_SOURCE.
int corepl_pipe2(int fds[2], int flags);

/// Makes signal `sig` write the byte `code` to `fd` (a non-blocking pipe) instead of its
/// default action, from whichever thread the kernel delivers it to. (A dispatch signal
/// source blocks the signal only in the thread that creates it; with the disposition set
/// to SIG_IGN, as it must be, a signal delivered to any other thread is silently lost.)
/// Returns -1 with errno set on failure.
int corepl_forward_signal(int sig, int fd, char code);

/// Sets up `attr` so the child starts with no signal blocked and every signal at its
/// default action, whatever the spawning thread has (as Foundation's Process does).
int corepl_spawnattr_clean_signals(posix_spawnattr_t *attr);

/// Restores the default action of `sig` and stops forwarding it.
void corepl_unforward_signal(int sig);

/// Remembers the terminal settings of `fd` and restores them at exit and on a crash
/// (SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE, SIGTERM, SIGHUP), then lets the
/// signal take its course. Returns -1 if `fd` is not a terminal.
int corepl_guard_terminal(int fd);

/// Restores the settings remembered by corepl_guard_terminal (safe to call twice).
void corepl_restore_terminal(void);

#endif
