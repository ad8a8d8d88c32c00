#!/usr/bin/env python3
"""mailcheck.py: independent checks on mail deskgate generated, for the smtp
integration tests. Uses only Python's standard library (email with the
default policy, imaplib).

  mailcheck.py parse FILE [--subject S] [--to-name N] [--from-name N]
                          [--attachment NAME] [--text T]
      Parse FILE; fail on any defect (message, part or header) and on any
      expectation that does not hold (values compared exactly).
  mailcheck.py imap-count PORT USER PASS MSGID
      Print how many messages in INBOX carry Message-ID <MSGID>.
  mailcheck.py imap-wait PORT USER PASS MSGID N SECONDS
      Wait until at least N such messages are there; print the count.
  mailcheck.py imap-fetch PORT USER PASS MSGID OUTFILE
      Write the first such message to OUTFILE.
  mailcheck.py imap-search PORT USER PASS HEADER VALUE
      Print the UIDs of INBOX messages whose HEADER contains VALUE.
"""
import email
import email.policy
import imaplib
import sys
import time


def fail(msg):
    print("mailcheck: FAIL: " + msg)
    sys.exit(1)


def defects_of(msg):
    found = []
    for part in msg.walk():
        for d in part.defects:
            found.append("%s: %s" % (part.get_content_type(), d.__class__.__name__))
        for name, value in part.items():
            for d in getattr(value, "defects", ()):
                found.append("header %s: %s" % (name, d.__class__.__name__))
    return found


def cmd_parse(args):
    path = args[0]
    want = {}
    i = 1
    while i < len(args):
        want.setdefault(args[i], []).append(args[i + 1])
        i += 2
    with open(path, "rb") as f:
        raw = f.read()
    if b"\r\n" not in raw or b"\n" in raw.replace(b"\r\n", b""):
        fail("%s: line ends are not all CRLF" % path)
    for n, line in enumerate(raw.split(b"\r\n")):
        if len(line) > 998:
            fail("%s: line %d is %d bytes" % (path, n + 1, len(line)))
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    d = defects_of(msg)
    if d:
        fail("%s: defects: %s" % (path, "; ".join(d)))
    for s in want.get("--subject", []):
        if str(msg["subject"]) != s:
            fail("subject: want %r, got %r" % (s, str(msg["subject"])))
    for n in want.get("--to-name", []):
        names = [a.display_name for a in msg["to"].addresses]
        if n not in names:
            fail("to display name: want %r in %r" % (n, names))
    for n in want.get("--from-name", []):
        names = [a.display_name for a in msg["from"].addresses]
        if n not in names:
            fail("from display name: want %r in %r" % (n, names))
    for n in want.get("--attachment", []):
        names = [p.get_filename() for p in msg.iter_attachments()]
        if n not in names:
            fail("attachment: want %r in %r" % (n, names))
    for t in want.get("--text", []):
        body = msg.get_body(preferencelist=("plain",))
        got = body.get_content() if body is not None else None
        if got is None or got.replace("\r\n", "\n") != t.replace("\r\n", "\n"):
            fail("text: want %r, got %r" % (t, got))
    print("ok %s" % path)


def imap_login(port, user, password):
    m = imaplib.IMAP4("127.0.0.1", int(port))
    m.login(user, password)
    m.select("INBOX")
    return m


def imap_uids(m, header, value):
    typ, data = m.uid("SEARCH", None, "HEADER", header, '"%s"' % value)
    if typ != "OK":
        fail("search failed")
    return data[0].split()


def cmd_count(args):
    port, user, password, msgid = args
    m = imap_login(port, user, password)
    print(len(imap_uids(m, "Message-ID", msgid)))
    m.logout()


def cmd_wait(args):
    port, user, password, msgid, n, secs = args
    deadline = time.time() + float(secs)
    count = 0
    while True:
        m = imap_login(port, user, password)
        count = len(imap_uids(m, "Message-ID", msgid))
        m.logout()
        if count >= int(n) or time.time() > deadline:
            break
        time.sleep(0.1)
    print(count)


def cmd_fetch(args):
    port, user, password, msgid, out = args
    m = imap_login(port, user, password)
    uids = imap_uids(m, "Message-ID", msgid)
    if not uids:
        fail("no message with Message-ID %s" % msgid)
    typ, data = m.uid("FETCH", uids[0], "(BODY.PEEK[])")
    m.logout()
    with open(out, "wb") as f:
        f.write(data[0][1])


def cmd_search(args):
    port, user, password, header, value = args
    m = imap_login(port, user, password)
    print(" ".join(u.decode() for u in imap_uids(m, header, value)))
    m.logout()


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        sys.exit(64)
    cmds = {"parse": cmd_parse, "imap-count": cmd_count, "imap-wait": cmd_wait,
            "imap-fetch": cmd_fetch, "imap-search": cmd_search}
    fn = cmds.get(sys.argv[1])
    if fn is None:
        print(__doc__)
        sys.exit(64)
    fn(sys.argv[2:])


if __name__ == "__main__":
    main()
