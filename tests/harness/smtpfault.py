#!/usr/bin/env python3
"""smtpfault.py: a small scripted SMTP server for fault injection in tests.

It speaks enough ESMTP for libcurl (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT;
no TLS, no AUTH) and misbehaves on purpose, as told by --fault options:

  --fault greet=421        reply 421 to the greeting and close
  --fault mail=451[:N]     reply 451 4.3.0 to MAIL FROM (the first N times, default always)
  --fault rcpt=550[:N]     reply 550 5.1.1 to RCPT TO (the first N times)
  --fault data=452[:N]     reply 452 4.3.1 after the message data (the first N times)
  --fault stall=data[:N]   take the message (it is written to the spool) but never
                           answer the end of the data, as if the reply were lost
                           (the first N times)
  --fault drop=mail        close the connection on MAIL FROM
  --fault drop=reuse[:N]   close the connection without a word on the MAIL FROM of
                           its second or later transaction (the first N times): a
                           relay that dropped an idle connection just as the client
                           reuses it
  --idle-close SECONDS     a connection that sends no command for SECONDS gets
                           "421 4.4.2 ... timeout exceeded" and is closed (Postfix's
                           smtpd_timeout, made short)
  --xoauth2 TOKEN          offer AUTH XOAUTH2 and require it, accepting only TOKEN
  --stall-for SECONDS      a relay that hangs: every connection made during the first
                           SECONDS after start gets its greeting only when they are
                           over (then it is served normally)
Codes may be any 4xx/5xx. Messages accepted are written to --spool DIR as
NNNN.eml (the bytes after dot-unstuffing) with NNNN.env holding the envelope.
--ready FILE is written once the port listens. Stop it with SIGTERM.
Each connection is logged on standard output as "connect N", "ehlo N" (a
client session: a port probe connects too), and "quit N"
(the client sent QUIT), "idle-close N" or "drop N" when it ends that way;
NNNN.env holds "conn=N", the connection that carried the message.
"""
import argparse
import base64
import os
import signal
import socket
import socketserver
import sys
import threading
import time

ENHANCED = {"421": "4.3.2", "450": "4.2.1", "451": "4.3.0", "452": "4.3.1",
            "550": "5.1.1", "552": "5.3.4", "553": "5.1.3", "554": "5.7.1"}


class State:
    def __init__(self, faults, spool, token=None):
        self.faults = faults  # stage -> [code, remaining or None]
        self.spool = spool
        self.token = token
        self.auth_ok = 0
        self.auth_bad = 0
        self.lock = threading.Lock()
        self.count = 0
        self.conns = 0
        self.log = []
        self.stall_until = 0.0
        self.idle_close = 0.0

    def fault(self, stage):
        """The fault code for this stage now, or None (counts down)."""
        with self.lock:
            f = self.faults.get(stage)
            if f is None:
                return None
            code, left = f
            if left is not None:
                if left <= 0:
                    return None
                f[1] = left - 1
            return code

    def connected(self):
        with self.lock:
            self.conns += 1
            n = self.conns
        print("connect %d" % n, flush=True)
        return n

    def store(self, env_from, rcpts, data, conn=0):
        with self.lock:
            self.count += 1
            n = self.count
        if self.spool:
            base = os.path.join(self.spool, "%04d" % n)
            with open(base + ".tmp", "wb") as f:
                f.write(data)
            os.rename(base + ".tmp", base + ".eml")
            with open(base + ".env", "w") as f:
                f.write("conn=%d\n" % conn)
                f.write("from=%s\n" % env_from)
                for r in rcpts:
                    f.write("rcpt=%s\n" % r)
        return n


class Handler(socketserver.StreamRequestHandler):
    def reply(self, line):
        self.wfile.write((line + "\r\n").encode())
        self.wfile.flush()

    def fail(self, code, what):
        enh = ENHANCED.get(code, code[0] + ".0.0")
        self.reply("%s %s smtpfault: injected %s failure" % (code, enh, what))

    def handle(self):
        st = self.server.state
        wait = st.stall_until - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        code = st.fault("greet")
        if code:
            self.reply("%s smtpfault.test closing: injected greeting failure" % code)
            return
        conn = st.connected()
        self.reply("220 smtpfault.test ESMTP ready")
        env_from, rcpts = None, []
        authed = st.token is None
        transactions = 0
        if st.idle_close > 0:
            self.connection.settimeout(st.idle_close)
        while True:
            try:
                raw = self.rfile.readline(4096)
            except (socket.timeout, TimeoutError):
                self.reply("421 4.4.2 smtpfault.test Error: timeout exceeded")
                print("idle-close %d" % conn, flush=True)
                return
            if not raw:
                return
            line = raw.decode("latin-1").rstrip("\r\n")
            verb = line.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                print("ehlo %d" % conn, flush=True)
                if verb == "EHLO":
                    self.reply("250-smtpfault.test")
                    self.reply("250-PIPELINING")
                    self.reply("250-SIZE 52428800")
                    self.reply("250-8BITMIME")
                    if st.token is not None:
                        self.reply("250-AUTH XOAUTH2")
                    self.reply("250 ENHANCEDSTATUSCODES")
                else:
                    self.reply("250 smtpfault.test")
            elif verb == "AUTH" and st.token is not None:
                parts = line.split()
                if len(parts) < 2 or parts[1].upper() != "XOAUTH2":
                    self.reply("504 5.5.4 mechanism not supported")
                    continue
                if len(parts) >= 3:
                    resp = parts[2]
                else:
                    self.reply("334 ")
                    resp = self.rfile.readline(8192).decode("latin-1").strip()
                try:
                    fields = base64.b64decode(resp).decode("latin-1").split("\x01")
                except Exception:
                    fields = []
                bearer = [f[len("auth=Bearer "):] for f in fields if f.startswith("auth=Bearer ")]
                if bearer and bearer[0] == st.token:
                    st.auth_ok += 1
                    authed = True
                    self.reply("235 2.7.0 Accepted")
                else:
                    st.auth_bad += 1
                    self.reply("535 5.7.8 Username and Password not accepted")
            elif verb == "MAIL" and not authed:
                self.reply("530 5.7.0 Authentication required")
            elif verb == "MAIL":
                if st.faults.get("drop") == ["mail", None]:
                    return
                if transactions > 0 and st.fault("drop") == "reuse":
                    print("drop %d" % conn, flush=True)
                    return
                transactions += 1
                code = st.fault("mail")
                if code:
                    self.fail(code, "MAIL")
                    continue
                env_from = line[10:].strip() if len(line) > 10 else ""
                rcpts = []
                self.reply("250 2.1.0 Ok")
            elif verb == "RCPT":
                code = st.fault("rcpt")
                if code:
                    self.fail(code, "RCPT")
                    continue
                rcpts.append(line[8:].strip())
                self.reply("250 2.1.5 Ok")
            elif verb == "DATA":
                if env_from is None or not rcpts:
                    self.reply("503 5.5.1 Error: need RCPT command")
                    continue
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                data = bytearray()
                while True:
                    l = self.rfile.readline(1 << 20)
                    if not l:
                        return
                    if l in (b".\r\n", b".\n"):
                        break
                    if l.startswith(b".."):
                        l = l[1:]
                    data += l
                if st.fault("stall"):
                    # the message is taken, but the reply never comes
                    st.store(env_from, rcpts, bytes(data), conn)
                    while self.rfile.readline(4096):
                        pass
                    return
                code = st.fault("data")
                if code:
                    self.fail(code, "DATA")
                else:
                    n = st.store(env_from, rcpts, bytes(data), conn)
                    self.reply("250 2.0.0 Ok: queued as F%04d" % n)
                env_from, rcpts = None, []
            elif verb == "RSET":
                env_from, rcpts = None, []
                self.reply("250 2.0.0 Ok")
            elif verb == "NOOP":
                self.reply("250 2.0.0 Ok")
            elif verb == "QUIT":
                print("quit %d" % conn, flush=True)
                self.reply("221 2.0.0 Bye")
                return
            else:
                self.reply("502 5.5.2 Error: command not recognized")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--spool")
    ap.add_argument("--ready")
    ap.add_argument("--fault", action="append", default=[])
    ap.add_argument("--xoauth2")
    ap.add_argument("--stall-for", type=float, default=0)
    ap.add_argument("--idle-close", type=float, default=0)
    a = ap.parse_args()
    faults = {}
    for f in a.fault:
        stage, _, spec = f.partition("=")
        if stage == "drop" and spec == "mail":
            faults[stage] = [spec, None]
            continue
        code, _, n = spec.partition(":")
        faults[stage] = [code, int(n) if n else None]
    if a.spool:
        os.makedirs(a.spool, exist_ok=True)
    srv = Server(("127.0.0.1", a.port), Handler)
    srv.state = State(faults, a.spool, a.xoauth2)
    srv.state.stall_until = time.monotonic() + a.stall_for
    srv.state.idle_close = a.idle_close
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if a.ready:
        with open(a.ready, "w") as f:
            f.write("%d\n" % os.getpid())
    try:
        srv.serve_forever()
    finally:
        srv.server_close()


if __name__ == "__main__":
    main()
