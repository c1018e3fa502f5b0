# The seed's final server.py (Beazley's fib microservice with AsyncSocket and a pool whose
# futures wake the loop through a socketpair), kept as the seed wrote it but for the
# command line: seed_server.py PORT [thread|process] [POOL_SIZE]. Used as a peer in
# benchmarks and as a foreign server in tests.
import sys
from socket import *
from collections import deque
from select import select
from concurrent.futures import ThreadPoolExecutor, ProcessPoolExecutor


def fib(n):
    if n <= 2:
        return 1
    return fib(n - 1) + fib(n - 2)


port = int(sys.argv[1]) if len(sys.argv) > 1 else 25000
kind = sys.argv[2] if len(sys.argv) > 2 else "thread"
size = int(sys.argv[3]) if len(sys.argv) > 3 else 4
pool = (ThreadPoolExecutor if kind == "thread" else ProcessPoolExecutor)(size)

tasks = deque()
recv_wait = {}
send_wait = {}
future_wait = {}

future_notify, future_event = socketpair()


def future_done(future):
    tasks.append(future_wait.pop(future))
    future_notify.send(b'x')


def future_monitor():
    while True:
        yield 'recv', future_event
        future_event.recv(100)


tasks.append(future_monitor())


def run():
    while any([tasks, recv_wait, send_wait]):
        while not tasks:
            can_recv, can_send, _ = select(recv_wait, send_wait, [])
            for s in can_recv:
                tasks.append(recv_wait.pop(s))
            for s in can_send:
                tasks.append(send_wait.pop(s))
        task = tasks.popleft()
        try:
            why, what = next(task)
            if why == 'recv':
                recv_wait[what] = task
            elif why == 'send':
                send_wait[what] = task
            elif why == 'future':
                future_wait[what] = task
                what.add_done_callback(future_done)
            else:
                raise RuntimeError("ARG!")
        except StopIteration:
            pass


class AsyncSocket(object):
    def __init__(self, sock):
        self.sock = sock

    def recv(self, maxsize):
        yield 'recv', self.sock
        return self.sock.recv(maxsize)

    def send(self, data):
        yield 'send', self.sock
        return self.sock.send(data)

    def accept(self):
        yield 'recv', self.sock
        client, addr = self.sock.accept()
        return AsyncSocket(client), addr

    def __getattr__(self, name):
        return getattr(self.sock, name)


def fib_server(address):
    sock = AsyncSocket(socket(AF_INET, SOCK_STREAM))
    sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
    sock.bind(address)
    sock.listen(128)
    print("listening on %s:%d" % sock.getsockname(), flush=True)
    while True:
        client, addr = yield from sock.accept()
        tasks.append(fib_handler(client))


def fib_handler(client):
    while True:
        req = yield from client.recv(100)
        if not req:
            break
        n = int(req)
        future = pool.submit(fib, n)
        yield 'future', future
        result = future.result()
        resp = str(result).encode('ascii') + b'\n'
        yield from client.send(resp)
    client.close()


if __name__ == '__main__':
    tasks.append(fib_server(('127.0.0.1', port)))
    run()
