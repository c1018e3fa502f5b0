// benchmarks/c-floor/floor.c: the floor for fib(1) ping-pong, hand-written in C. Not a fib
// server: it answers every read with "1\n" (fib(1)), as the seed's perf2 requests ask, and
// does nothing else, so it shows what the kernel's TCP path costs per request on its own.
//   floor epoll  edge-triggered epoll, recv and send at once (as the NIO peer): 3 calls/request
//   floor uring  io_uring: the reply's send and the next recv submitted together, one
//                io_uring_enter per round (1 call per request at C=1)
// Prints "listening on 127.0.0.1:PORT" (an ephemeral port) like the other servers.
// Build: gcc -O2 -o floor floor.c -luring (Debian: liburing-dev).
#include <liburing.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <errno.h>
static int listener(void) {
  int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  bind(s, (void*)&a, sizeof a); listen(s, 1024);
  socklen_t l = sizeof a; getsockname(s, (void*)&a, &l);
  printf("listening on 127.0.0.1:%d\n", ntohs(a.sin_port)); fflush(stdout);
  return s;
}
static char bufs[65536][128];
static int reply(const char *b, int n, char *out) { (void)b; (void)n; out[0]='1'; out[1]='\n'; return 2; }
static void run_epoll(int ls) {
  int ep = epoll_create1(0);
  fcntl(ls, F_SETFL, O_NONBLOCK);
  struct epoll_event e = {.events = EPOLLIN, .data.fd = ls}; epoll_ctl(ep, EPOLL_CTL_ADD, ls, &e);
  struct epoll_event evs[256]; char out[32];
  for (;;) {
    int n = epoll_wait(ep, evs, 256, -1);
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      if (fd == ls) { int c; while ((c = accept4(ls, 0, 0, SOCK_NONBLOCK)) >= 0) { int one=1; setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct epoll_event ce = {.events = EPOLLIN|EPOLLET|EPOLLRDHUP, .data.fd = c}; epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);} continue; }
      for (;;) { ssize_t r = recv(fd, bufs[fd], 128, 0);
        if (r > 0) { int k = reply(bufs[fd], r, out); send(fd, out, k, 0); if (r < 128) break; continue; }
        if (r == 0) { close(fd); } break; }
    }
  }
}
enum { ACC = 1, RECV = 2, SEND = 3 };
#define UD(kind, fd) (((unsigned long long)(kind) << 32) | (unsigned)(fd))
static char outs[65536][8];
static void run_uring(int ls) {
  struct io_uring ring; struct io_uring_params p = {0};
  p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_COOP_TASKRUN;
  if (io_uring_queue_init_params(4096, &ring, &p) < 0) { p.flags = 0; if (io_uring_queue_init_params(4096, &ring, &p) < 0) { perror("uring"); exit(1);} }
  struct io_uring_sqe *s = io_uring_get_sqe(&ring); io_uring_prep_multishot_accept(s, ls, 0, 0, 0); io_uring_sqe_set_data64(s, UD(ACC, ls));
  for (;;) {
    io_uring_submit_and_wait(&ring, 1);
    struct io_uring_cqe *cqe; unsigned head, seen = 0;
    io_uring_for_each_cqe(&ring, head, cqe) {
      seen++;
      int kind = cqe->user_data >> 32, fd = (int)(cqe->user_data & 0xffffffff), res = cqe->res;
      if (kind == ACC) { if (res >= 0) { int one=1; setsockopt(res, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          s = io_uring_get_sqe(&ring); io_uring_prep_recv(s, res, bufs[res], 128, 0); io_uring_sqe_set_data64(s, UD(RECV, res)); } }
      else if (kind == RECV) {
        if (res <= 0) { close(fd); continue; }
        int k = reply(bufs[fd], res, outs[fd]);
        s = io_uring_get_sqe(&ring); io_uring_prep_send(s, fd, outs[fd], k, 0); io_uring_sqe_set_data64(s, UD(SEND, fd));
        s = io_uring_get_sqe(&ring); io_uring_prep_recv(s, fd, bufs[fd], 128, 0); io_uring_sqe_set_data64(s, UD(RECV, fd));
      }
    }
    io_uring_cq_advance(&ring, seen);
  }
}
int main(int argc, char **argv) {
  int ls = listener();
  if (argc > 1 && strcmp(argv[1], "uring") == 0) run_uring(ls); else run_epoll(ls);
}
