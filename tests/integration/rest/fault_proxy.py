#!/usr/bin/env python3
"""HTTP proxy in front of a real slurmrestd that injects the faults an independent centre's
network shows: a submission whose answer arrives too late (the centre has the job, the client
timed out) and error answers. Test-only; the requests themselves go to the real slurmrestd.

  fault_proxy.py [LISTEN_ADDR:]LISTEN_PORT UPSTREAM_HOST:PORT MODE_FILE COUNT_FILE

LISTEN_ADDR defaults to 127.0.0.1 (the rig gives the centre's own address inside its namespace).

MODE_FILE (read per request, missing = pass):
  pass                  forward everything
  delay-submit SECONDS  forward POST .../job/submit, hold its answer SECONDS, then send it
  error                 answer every request with HTTP 500 and a slurmrestd-style errors[] body
COUNT_FILE: one line appended per POST .../job/submit that reached the centre.
"""
import socket
import socketserver
import sys
import time

LISTEN_ADDR, _, LISTEN_PORT = sys.argv[1].rpartition(":")
LISTEN = (LISTEN_ADDR or "127.0.0.1", int(LISTEN_PORT))
UPSTREAM, MODE_FILE, COUNT_FILE = sys.argv[2], sys.argv[3], sys.argv[4]


def mode():
    try:
        with open(MODE_FILE) as f:
            return f.read().split()
    except OSError:
        return ["pass"]


def read_request(rfile):
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        line = rfile.readline(65537)
        if not line:
            return None, None
        head += line
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    body = rfile.read(length) if length else b""
    return head, body


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        head, body = read_request(self.rfile)
        if head is None:
            return
        request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        m = mode()
        if m[0] == "error":
            payload = b'{"errors":[{"error":"injected failure","error_number":-1}]}'
            self.wfile.write(b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: "
                             b"application/json\r\nConnection: close\r\nContent-Length: " +
                             str(len(payload)).encode() + b"\r\n\r\n" + payload)
            return
        # One request per upstream connection: the answer ends when slurmrestd closes.
        lines = head.split(b"\r\n")
        lines = [l for l in lines if not l.lower().startswith(b"connection:")]
        head = b"\r\n".join(lines[:-2]) + b"\r\nConnection: close\r\n\r\n"
        host, port = UPSTREAM.rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=30) as up:
            up.sendall(head + body)
            answer = b""
            while True:
                chunk = up.recv(65536)
                if not chunk:
                    break
                answer += chunk
        submit = request_line.startswith("POST ") and "/job/submit" in request_line
        if submit:
            with open(COUNT_FILE, "a") as f:
                f.write(request_line + "\n")
        if submit and m[0] == "delay-submit":
            time.sleep(float(m[1]))
        try:
            self.wfile.write(answer)
        except OSError:
            pass  # the client gave up waiting: that is the point


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


if __name__ == "__main__":
    with Server(LISTEN, Handler) as s:
        s.serve_forever()
