#!/usr/bin/env python3
"""A datagram socket that records what it receives, for tests: the service
manager's end of NOTIFY_SOCKET, or a syslog daemon's /dev/log.

    dgramsock.py notify ADDRESS LOG [SECONDS]
    dgramsock.py syslog PATH LOG [SECONDS]

ADDRESS is a path, or @name for an abstract socket. Each datagram is
appended to LOG as one line (line breaks inside it as '|' for notify, as
'\\n' for syslog). notify lines start with the sender's pid (from
SCM_CREDENTIALS, as systemd checks NotifyAccess=main) and the monotonic
time: "PID TIME READY=1|STATUS=...". syslog lines are the message as
syslog(3) sent it: "<PRI>TIMESTAMP TAG[PID]: TEXT". LOG exists once the
socket is bound. Stops after SECONDS (default 120) or on SIGTERM.
"""
import os, signal, socket, struct, sys, time

def main():
    mode, addr, log = sys.argv[1], sys.argv[2], sys.argv[3]
    limit = float(sys.argv[4]) if len(sys.argv) > 4 else 120.0
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if mode == "notify":
        s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    s.bind("\0" + addr[1:] if addr.startswith("@") else addr)
    if not addr.startswith("@"):
        os.chmod(addr, 0o666)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    open(log, "w").close()
    end = time.monotonic() + limit
    while time.monotonic() < end:
        s.settimeout(max(0.1, end - time.monotonic()))
        try:
            data, anc, _flags, _ = s.recvmsg(65536, socket.CMSG_SPACE(12))
        except socket.timeout:
            break
        text = data.decode("utf-8", "replace")
        if mode == "notify":
            pid = 0
            for level, typ, cdata in anc:
                if level == socket.SOL_SOCKET and typ == socket.SCM_CREDENTIALS:
                    pid = struct.unpack("iII", cdata[:12])[0]
            line = "%d %.3f %s" % (pid, time.monotonic(), text.replace("\n", "|"))
        else:
            line = text.rstrip("\n").replace("\n", "\\n")
        with open(log, "a") as f:
            f.write(line + "\n")
    if mode == "notify" and not addr.startswith("@"):
        os.unlink(addr)

main()
