#!/usr/bin/env python3
"""fakeimap: a small scripted IMAP4rev1 server for fault-injection tests.

It serves one mailbox (INBOX, plus the folders messages are moved to) from
the message files in --maildir (sorted by name; UIDs 1..n), enough of IMAP
for deskgate's client (CAPABILITY, LOGIN, AUTHENTICATE PLAIN / XOAUTH2 /
OAUTHBEARER with SASL-IR, SELECT, UID SEARCH, UID FETCH (UID
BODY.PEEK[]<0.n>), UID STORE, UID MOVE / COPY / EXPUNGE, CREATE, IDLE,
NOOP, LOGOUT), and misbehaves on demand, the first --fault-times
connections only so that a client that reconnects can finish:

  stall         during UID FETCH, after --fault-after messages, send nothing
                more (the connection stays open)
  trickle       during UID FETCH, send the literal of message --fault-after
                one byte per second
  garbage       answer UID FETCH with a line that is not IMAP
  drop-literal  close the connection halfway through the literal of message
                --fault-after
  bye           send "* BYE" instead of the FETCH response, then close
  bye-greeting  greet with "* BYE" and close
  no-fetch      answer UID FETCH with a tagged NO
  nil-body      send the body of the message with UID --fault-after + 1 as
                NIL (the server has the message but will not give it)
  missing-no    leave the message with UID --fault-after + 1 out of the FETCH
                response and end it with a tagged NO, as Dovecot does for a
                message it cannot read ("NO Some messages could not be
                FETCHed")

--late-arrival FILE adds the message in FILE to INBOX while the first UID
STORE runs and announces it ("* N EXISTS") in that STORE's response only,
never in IDLE, as Dovecot does with mail that arrives between commands: a
client that looks for new mail only when IDLE wakes it never sees it.

--no-move leaves MOVE out of the capabilities (COPY + EXPUNGE then).
--token TOKEN makes XOAUTH2 / OAUTHBEARER accept only TOKEN (use it with a
token file the test rewrites); --tls CERT KEY serves TLS (imaps) and records
the SNI name. Every event is appended to --log as one JSON object per line
({"event": "auth", "mech": ..., "ok": ...}, {"event": "sni", "name": ...},
{"event": "fault", ...}, {"event": "store", "uids": [...], "flags": [...]},
{"event": "move", ...}); the final flags of every message are written to
--state (JSON: {"INBOX": {"1": ["\\\\Seen"], ...}, ...}) after each change.
Prints "port N" on stdout once it listens.
"""
import argparse
import base64
import json
import os
import re
import socket
import socketserver
import ssl
import sys
import threading
import time

LOCK = threading.Lock()


class Mailstore:
    def __init__(self, maildir, uidvalidity):
        self.uidvalidity = uidvalidity
        self.folders = {"INBOX": {}}
        self.next_uid = {"INBOX": 1}
        names = sorted(os.listdir(maildir)) if maildir else []
        for name in names:
            with open(os.path.join(maildir, name), "rb") as f:
                data = f.read()
            uid = self.next_uid["INBOX"]
            self.folders["INBOX"][uid] = {"data": data, "flags": set()}
            self.next_uid["INBOX"] = uid + 1

    def folder(self, name):
        if name.upper() == "INBOX":
            name = "INBOX"
        return self.folders.get(name), name


class State:
    args = None
    store = None
    connections = 0
    faults_done = 0
    late_done = False

    @classmethod
    def log(cls, **event):
        if cls.args.log:
            with LOCK, open(cls.args.log, "a") as f:
                f.write(json.dumps(event) + "\n")

    @classmethod
    def save(cls):
        if not cls.args.state:
            return
        out = {}
        for fname, msgs in cls.store.folders.items():
            out[fname] = {str(u): sorted(m["flags"]) for u, m in msgs.items()}
        tmp = cls.args.state + ".tmp"
        with open(tmp, "w") as f:
            json.dump(out, f)
        os.replace(tmp, cls.args.state)


def parse_set(s, maxuid):
    uids = set()
    for part in s.split(","):
        if ":" in part:
            a, b = part.split(":")
            a = maxuid if a == "*" else int(a)
            b = maxuid if b == "*" else int(b)
            lo, hi = min(a, b), max(a, b)
            uids.update(range(lo, hi + 1))
        else:
            uids.add(maxuid if part == "*" else int(part))
    return uids


class Handler(socketserver.StreamRequestHandler):
    def setup(self):
        super().setup()
        self.selected = None
        self.authed = False
        with LOCK:
            State.connections += 1
            self.conn_no = State.connections
        a = State.args
        self.faulty = a.fault and self.conn_no <= a.fault_times

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.wfile.write(data)
        self.wfile.flush()

    def readline(self):
        line = self.rfile.readline(65536)
        if not line:
            raise ConnectionError("eof")
        return line.decode("utf-8", "replace").rstrip("\r\n")

    def caps(self):
        c = "IMAP4rev1 SASL-IR UIDPLUS IDLE LITERAL+"
        if not State.args.no_move:
            c += " MOVE"
        if not self.authed:
            c += " AUTH=PLAIN AUTH=XOAUTH2 AUTH=OAUTHBEARER"
        return c

    def handle(self):
        try:
            if self.faulty and State.args.fault == "bye-greeting":
                State.log(event="fault", fault="bye-greeting", conn=self.conn_no)
                self.send("* BYE too busy, go away\r\n")
                return
            self.send("* OK [CAPABILITY %s] fakeimap ready\r\n" % self.caps())
            while True:
                line = self.readline()
                if not self.command(line):
                    return
        except (ConnectionError, BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            return

    def command(self, line):
        m = re.match(r"(\S+) (\S+)(?: (.*))?$", line)
        if not m:
            self.send("* BAD no tag\r\n")
            return True
        tag, cmd, rest = m.group(1), m.group(2).upper(), m.group(3) or ""
        if cmd == "UID":
            sub, _, rest = rest.partition(" ")
            cmd = "UID " + sub.upper()
        fn = {
            "CAPABILITY": self.c_capability, "NOOP": self.c_noop, "LOGOUT": self.c_logout,
            "LOGIN": self.c_login, "AUTHENTICATE": self.c_authenticate,
            "SELECT": self.c_select, "EXAMINE": self.c_select, "CREATE": self.c_create,
            "UID SEARCH": self.c_search, "UID FETCH": self.c_fetch, "UID STORE": self.c_store,
            "UID MOVE": self.c_move, "UID COPY": self.c_copy, "UID EXPUNGE": self.c_expunge,
            "EXPUNGE": self.c_expunge_all, "IDLE": self.c_idle,
        }.get(cmd)
        if fn is None:
            self.send("%s BAD unknown command\r\n" % tag)
            return True
        return fn(tag, rest)

    def c_capability(self, tag, rest):
        self.send("* CAPABILITY %s\r\n%s OK done\r\n" % (self.caps(), tag))
        return True

    def c_noop(self, tag, rest):
        self.send("%s OK noop\r\n" % tag)
        return True

    def c_logout(self, tag, rest):
        self.send("* BYE bye\r\n%s OK logout\r\n" % tag)
        return False

    def c_login(self, tag, rest):
        parts = re.findall(r'"((?:[^"\\]|\\.)*)"|(\S+)', rest)
        vals = [a or b for a, b in parts]
        ok = len(vals) == 2 and vals[1] == State.args.password
        State.log(event="auth", mech="LOGIN", ok=ok, conn=self.conn_no)
        if ok:
            self.authed = True
            self.send("%s OK logged in\r\n" % tag)
        else:
            self.send("%s NO [AUTHENTICATIONFAILED] bad password\r\n" % tag)
        return True

    def c_authenticate(self, tag, rest):
        mech, _, ir = rest.partition(" ")
        mech = mech.upper()
        if not ir:
            self.send("+ \r\n")
            ir = self.readline()
        try:
            raw = base64.b64decode(ir)
        except Exception:
            self.send("%s BAD bad base64\r\n" % tag)
            return True
        ok = False
        token = None
        if mech == "PLAIN":
            p = raw.split(b"\0")
            ok = len(p) == 3 and p[2].decode() == State.args.password
        elif mech == "XOAUTH2":
            m = re.search(rb"auth=Bearer ([^\x01]*)", raw)
            token = m.group(1).decode() if m else None
        elif mech == "OAUTHBEARER":
            m = re.search(rb"auth=Bearer ([^\x01]*)", raw)
            token = m.group(1).decode() if m else None
            if not raw.startswith(b"n,a="):
                token = None
        if mech in ("XOAUTH2", "OAUTHBEARER"):
            ok = token is not None and token == State.args.token
            if not ok:
                err = base64.b64encode(b'{"status":"401","schemes":"Bearer","scope":"imap"}')
                self.send("+ %s\r\n" % err.decode())
                resp = self.readline()
                State.log(event="auth-cancel", mech=mech, response=resp)
        State.log(event="auth", mech=mech, ok=ok, token=token, conn=self.conn_no)
        if ok:
            self.authed = True
            self.send("%s OK [CAPABILITY %s] authenticated\r\n" % (tag, self.caps()))
        else:
            self.send("%s NO [AUTHENTICATIONFAILED] invalid credentials\r\n" % tag)
        return True

    def c_select(self, tag, rest):
        name = rest.strip().strip('"')
        with LOCK:
            folder, name = State.store.folder(name)
            if folder is None:
                self.send("%s NO [NONEXISTENT] no such mailbox\r\n" % tag)
                return True
            self.selected = name
            uidnext = State.store.next_uid.get(name, 1)
            self.send("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
                      "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] ok\r\n"
                      "* %d EXISTS\r\n* 0 RECENT\r\n"
                      "* OK [UIDVALIDITY %d] ok\r\n* OK [UIDNEXT %d] ok\r\n"
                      "%s OK [READ-WRITE] selected\r\n"
                      % (len(folder), State.store.uidvalidity, uidnext, tag))
        return True

    def c_create(self, tag, rest):
        name = rest.strip().strip('"')
        with LOCK:
            State.store.folders.setdefault(name, {})
            State.store.next_uid.setdefault(name, 1)
        self.send("%s OK created\r\n" % tag)
        return True

    def msgs(self):
        return State.store.folders[self.selected]

    def c_search(self, tag, rest):
        m = re.search(r"UID ([0-9:*,]+)", rest, re.I)
        with LOCK:
            msgs = self.msgs()
            maxuid = max(msgs) if msgs else 0
            want = parse_set(m.group(1), maxuid) if m else set(msgs)
            res = [u for u in sorted(msgs) if u in want]
            if re.search(r"\bUNSEEN\b", rest, re.I):
                res = [u for u in res if "\\Seen" not in msgs[u]["flags"]]
        self.send("* SEARCH%s\r\n%s OK search done\r\n" % ("".join(" %d" % u for u in res), tag))
        return True

    def c_fetch(self, tag, rest):
        setspec, _, items = rest.partition(" ")
        part = re.search(r"BODY\.PEEK\[\]<(\d+)\.(\d+)>", items, re.I)
        with LOCK:
            msgs = self.msgs()
            maxuid = max(msgs) if msgs else 0
            uids = [u for u in sorted(parse_set(setspec, maxuid)) if u in msgs]
            datas = [(u, msgs[u]["data"]) for u in uids]
        a = State.args
        fault = a.fault if self.faulty else None
        if fault == "garbage":
            State.log(event="fault", fault=fault, conn=self.conn_no)
            self.send("%%%% this is not IMAP at all ))) {{{\r\n")
            return True
        if fault == "bye":
            State.log(event="fault", fault=fault, conn=self.conn_no)
            self.send("* BYE server shutting down\r\n")
            return False
        if fault == "no-fetch":
            State.log(event="fault", fault=fault, conn=self.conn_no)
            self.send("%s NO fetch failed, try later\r\n" % tag)
            return True
        skipped = False
        for i, (uid, data) in enumerate(datas):
            if fault in ("nil-body", "missing-no") and uid == a.fault_after + 1:
                State.log(event="fault", fault=fault, conn=self.conn_no, uid=uid)
                if fault == "nil-body":
                    self.send("* %d FETCH (UID %d BODY[] NIL)\r\n" % (i + 1, uid))
                skipped = True
                continue
            if part:
                origin, length = int(part.group(1)), int(part.group(2))
                data = data[origin:origin + length]
                head = "* %d FETCH (UID %d BODY[]<%d> {%d}\r\n" % (i + 1, uid, origin, len(data))
            else:
                head = "* %d FETCH (UID %d BODY[] {%d}\r\n" % (i + 1, uid, len(data))
            if fault == "stall" and i == a.fault_after:
                State.log(event="fault", fault=fault, conn=self.conn_no, uid=uid)
                time.sleep(3600)
                return False
            self.send(head)
            if fault == "drop-literal" and i == a.fault_after:
                State.log(event="fault", fault=fault, conn=self.conn_no, uid=uid)
                self.send(data[: len(data) // 2])
                return False
            if fault == "trickle" and i == a.fault_after:
                State.log(event="fault", fault=fault, conn=self.conn_no, uid=uid)
                for b in data:
                    self.send(bytes([b]))
                    time.sleep(1)
            else:
                self.send(data)
            self.send(")\r\n")
        if skipped and fault == "missing-no":
            self.send("%s NO Some messages could not be FETCHed (n/a)\r\n" % tag)
        else:
            self.send("%s OK fetch done\r\n" % tag)
        return True

    def c_store(self, tag, rest):
        m = re.match(r"(\S+) ([+-]?)FLAGS(?:\.SILENT)? \((.*)\)", rest, re.I)
        if not m:
            self.send("%s BAD store syntax\r\n" % tag)
            return True
        announce, late_uid = "", None
        with LOCK:
            msgs = self.msgs()
            maxuid = max(msgs) if msgs else 0
            uids = [u for u in sorted(parse_set(m.group(1), maxuid)) if u in msgs]
            flags = m.group(3).split()
            if State.args.late_arrival and not State.late_done and self.selected == "INBOX":
                State.late_done = True
                with open(State.args.late_arrival, "rb") as f:
                    data = f.read()
                uid = State.store.next_uid["INBOX"]
                msgs[uid] = {"data": data, "flags": set()}
                State.store.next_uid["INBOX"] = uid + 1
                announce = "* %d EXISTS\r\n* 1 RECENT\r\n" % len(msgs)
                late_uid = uid
            for u in uids:
                if m.group(2) == "+":
                    msgs[u]["flags"].update(flags)
                elif m.group(2) == "-":
                    msgs[u]["flags"].difference_update(flags)
                else:
                    msgs[u]["flags"] = set(flags)
            State.save()
        State.log(event="store", uids=uids, flags=flags, conn=self.conn_no)
        if late_uid is not None:
            State.log(event="late-arrival", uid=late_uid, conn=self.conn_no)
        self.send("%s%s OK stored\r\n" % (announce, tag))
        return True

    def copy(self, rest):
        setspec, _, dest = rest.partition(" ")
        dest = dest.strip().strip('"')
        msgs = self.msgs()
        maxuid = max(msgs) if msgs else 0
        uids = [u for u in sorted(parse_set(setspec, maxuid)) if u in msgs]
        if dest not in State.store.folders:
            return None, dest
        for u in uids:
            nu = State.store.next_uid[dest]
            State.store.folders[dest][nu] = {"data": msgs[u]["data"], "flags": set(msgs[u]["flags"])}
            State.store.next_uid[dest] = nu + 1
        return uids, dest

    def c_copy(self, tag, rest):
        with LOCK:
            uids, dest = self.copy(rest)
            State.save()
        if uids is None:
            self.send("%s NO [TRYCREATE] no such mailbox\r\n" % tag)
        else:
            State.log(event="copy", uids=uids, dest=dest, conn=self.conn_no)
            self.send("%s OK copied\r\n" % tag)
        return True

    def c_move(self, tag, rest):
        with LOCK:
            uids, dest = self.copy(rest)
            if uids is not None:
                for u in uids:
                    del self.msgs()[u]
            State.save()
        if uids is None:
            self.send("%s NO [TRYCREATE] no such mailbox\r\n" % tag)
        else:
            State.log(event="move", uids=uids, dest=dest, conn=self.conn_no)
            self.send("%s OK moved\r\n" % tag)
        return True

    def c_expunge(self, tag, rest):
        with LOCK:
            msgs = self.msgs()
            maxuid = max(msgs) if msgs else 0
            for u in sorted(parse_set(rest.strip(), maxuid)):
                if u in msgs and "\\Deleted" in msgs[u]["flags"]:
                    del msgs[u]
            State.save()
        self.send("%s OK expunged\r\n" % tag)
        return True

    def c_expunge_all(self, tag, rest):
        return self.c_expunge(tag, "1:*")

    def c_idle(self, tag, rest):
        self.send("+ idling\r\n")
        line = self.readline()
        if line.upper() != "DONE":
            self.send("%s BAD expected DONE\r\n" % tag)
        else:
            self.send("%s OK idle done\r\n" % tag)
        return True


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def get_request(self):
        sock, addr = super().get_request()
        if State.args.tls:
            sock = self.ssl_ctx.wrap_socket(sock, server_side=True)
        return sock, addr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--maildir", default="")
    ap.add_argument("--uidvalidity", type=int, default=1234)
    ap.add_argument("--password", default="secret")
    ap.add_argument("--token", default=None)
    ap.add_argument("--fault", default=None)
    ap.add_argument("--fault-after", type=int, default=0)
    ap.add_argument("--fault-times", type=int, default=1)
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--no-move", action="store_true", help="do not offer MOVE")
    ap.add_argument("--late-arrival", default=None, metavar="FILE")
    ap.add_argument("--log", default=None)
    ap.add_argument("--state", default=None)
    args = ap.parse_args()
    State.args = args
    if args.token is None and os.environ.get("FAKEIMAP_TOKEN"):
        args.token = os.environ["FAKEIMAP_TOKEN"]
    State.store = Mailstore(args.maildir, args.uidvalidity)
    State.store.folders.setdefault("Archive", {})
    State.store.next_uid.setdefault("Archive", 1)
    State.save()
    srv = Server(("127.0.0.1", args.port), Handler)
    if args.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls[0], args.tls[1])

        def sni(sslsock, name, context):
            State.log(event="sni", name=name)
        ctx.sni_callback = sni
        srv.ssl_ctx = ctx
    print("port %d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
