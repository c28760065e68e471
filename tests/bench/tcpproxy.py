"""
A TCP proxy whose far end can be made unreachable, for the load test's primary outage.

``python -m tests.bench.tcpproxy LISTEN_PORT TARGET_PORT`` listens on 127.0.0.1:LISTEN_PORT, says
``up`` on one line, and forwards every connection to 127.0.0.1:TARGET_PORT. It reads commands on
its standard input, one a line:

- ``down``: stop listening (a new connection is refused at once) and cut every open one, as a
  primary that went away would; the server behind keeps running;
- ``up``: listen again on the same port.

Each command is answered by one line (``down`` / ``up``) once done. It exits when its standard
input closes. Two threads per connection copy bytes with blocking calls, which release the GIL:
it runs in a process of its own, so the load's clients don't compete with it for that lock.
"""

import socket
import sys
import threading

HOST = "127.0.0.1"


class Proxy:
    def __init__(self, port, target_port):
        self.port, self.target = port, (HOST, target_port)
        self.lock = threading.Lock()
        self.open = set()
        self.listener = None

    def listen(self):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((HOST, self.port))
        listener.listen(128)
        self.listener = listener
        threading.Thread(target=self.accept, args=(listener,), daemon=True).start()

    def accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # shut by down()
            if self.listener is not listener:
                client.close()
                return
            try:
                server = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                self.open.update((client, server))
            threading.Thread(target=self.pipe, args=(client, server), daemon=True).start()
            threading.Thread(target=self.pipe, args=(server, client), daemon=True).start()

    def pipe(self, source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            self.close(source, sink)

    def close(self, *socks):
        with self.lock:
            for sock in socks:
                if sock in self.open:
                    self.open.discard(sock)
                    try:
                        sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    sock.close()

    def down(self):
        # shutdown() first: it wakes the thread blocked in accept(), which close() alone would not,
        # and that thread would otherwise take one more connection.
        listener, self.listener = self.listener, None
        listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        with self.lock:
            cut = list(self.open)
        self.close(*cut)


def main():
    proxy = Proxy(int(sys.argv[1]), int(sys.argv[2]))
    proxy.listen()
    print("up", flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "down":
            proxy.down()
        elif command == "up":
            proxy.listen()
        else:
            continue
        print(command, flush=True)


if __name__ == "__main__":
    main()
