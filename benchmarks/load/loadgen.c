/* loadgen: a closed-loop load generator for the fib protocol.
 *
 *   loadgen PORT CONNECTIONS SECONDS N [LONG_N LONG_AFTER_S]
 *
 * Each of CONNECTIONS connections sends "N\n", waits for the reply line, and sends again
 * (blocking ping-pong, driven by one epoll loop). Prints, one per line:
 *   reqs: TOTAL, req/s: RATE, p50_us: P50, p99_us: P99, p999_us: P99.9, max_us: MAX,
 *   over_100ms: how many replies took longer than 100 ms
 * (the maximum is the figure that shows a lost wake-up or a stalled loop: a p99 does not).
 * With LONG_N, one more connection sends "LONG_N\n" once, LONG_AFTER_S seconds in, and
 * the tool also prints the rate while that request was in flight, the rate over the same
 * length of time just before it, and how long it took:
 *   long_ms: T, during_req/s: D, before_req/s: B
 * With LOADGEN_NO_NEWLINE=1 in the environment, the ping-pong requests go out as the seed's
 * perf2 sends them: "N" with no newline (the server reads one request per recv).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

typedef struct { int fd; uint64_t sent_at; char buf[256]; int len; int is_long; } conn_t;

static int connect_to(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) { perror("connect"); exit(1); }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static int cmp(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc < 5) { fprintf(stderr, "usage: loadgen PORT CONNECTIONS SECONDS N [LONG_N LONG_AFTER_S]\n"); return 2; }
    int port = atoi(argv[1]), nconn = atoi(argv[2]);
    double seconds = atof(argv[3]);
    int n = atoi(argv[4]);
    int long_n = argc > 6 ? atoi(argv[5]) : -1;
    double long_after = argc > 6 ? atof(argv[6]) : 0;

    int ep = epoll_create1(0);
    conn_t *conns = calloc(nconn + 1, sizeof(conn_t));
    char req[32], long_req[32];
    const char *bare = getenv("LOADGEN_NO_NEWLINE");
    int req_len = snprintf(req, sizeof req, (bare && *bare == '1') ? "%d" : "%d\n", n);
    int long_len = snprintf(long_req, sizeof long_req, "%d\n", long_n);
    size_t cap = 1 << 20, count = 0;
    uint64_t *lat = malloc(cap * sizeof(uint64_t));
    uint64_t *done_at = malloc(cap * sizeof(uint64_t));

    uint64_t start = now_ns(), end = start + (uint64_t)(seconds * 1e9);
    for (int i = 0; i < nconn; i++) {
        conns[i].fd = connect_to(port);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &conns[i]};
        epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
        conns[i].sent_at = now_ns();
        if (write(conns[i].fd, req, req_len) != req_len) { perror("write"); return 1; }
    }
    conn_t *lc = &conns[nconn];
    uint64_t long_start = 0, long_end = 0;
    int long_sent = 0;
    if (long_n >= 0) {
        lc->fd = connect_to(port);
        lc->is_long = 1;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = lc};
        epoll_ctl(ep, EPOLL_CTL_ADD, lc->fd, &ev);
    }
    struct epoll_event events[256];
    for (;;) {
        uint64_t t = now_ns();
        if (t >= end && (long_n < 0 || long_end)) break;
        if (t >= end + 30000000000ull) break;
        if (long_n >= 0 && !long_sent && t >= start + (uint64_t)(long_after * 1e9)) {
            long_start = now_ns();
            if (write(lc->fd, long_req, long_len) != long_len) { perror("write"); return 1; }
            long_sent = 1;
        }
        int k = epoll_wait(ep, events, 256, 10);
        for (int i = 0; i < k; i++) {
            conn_t *c = events[i].data.ptr;
            int r = read(c->fd, c->buf + c->len, sizeof c->buf - 1 - c->len);
            if (r <= 0) { fprintf(stderr, "loadgen: connection closed\n"); return 1; }
            c->len += r;
            char *nl = memchr(c->buf, '\n', c->len);
            if (!nl) continue;
            uint64_t t2 = now_ns();
            c->len = 0;
            if (c->is_long) { long_end = t2; continue; }
            if (t2 < end) {
                if (count == cap) { cap *= 2; lat = realloc(lat, cap * 8); done_at = realloc(done_at, cap * 8); }
                lat[count] = t2 - c->sent_at;
                done_at[count] = t2;
                count++;
                c->sent_at = t2;
                if (write(c->fd, req, req_len) != req_len) { perror("write"); return 1; }
            }
        }
    }
    double elapsed = seconds;
    printf("reqs: %zu\n", count);
    printf("req/s: %.0f\n", count / elapsed);
    if (long_n >= 0 && long_end) {
        uint64_t d = long_end - long_start, during = 0, before = 0;
        for (size_t i = 0; i < count; i++) {
            if (done_at[i] >= long_start && done_at[i] < long_end) during++;
            if (done_at[i] >= long_start - d && done_at[i] < long_start) before++;
        }
        printf("long_ms: %.1f\n", d / 1e6);
        printf("during_req/s: %.1f\n", during / (d / 1e9));
        printf("before_req/s: %.1f\n", before / (d / 1e9));
    }
    qsort(lat, count, sizeof(uint64_t), cmp);
    if (count) {
        printf("p50_us: %.1f\n", lat[count / 2] / 1e3);
        printf("p99_us: %.1f\n", lat[(size_t)(count * 0.99)] / 1e3);
        printf("p999_us: %.1f\n", lat[(size_t)(count * 0.999)] / 1e3);
        printf("max_us: %.1f\n", lat[count - 1] / 1e3);
        size_t over = 0;
        for (size_t i = 0; i < count; i++) if (lat[i] > 100000000u) over++;
        printf("over_100ms: %zu\n", over);
    }
    return 0;
}
