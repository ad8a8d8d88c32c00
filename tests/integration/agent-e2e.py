#!/usr/bin/env python3
"""agent-e2e.py: mailbox look-ups for test-agent-e2e.sh, over the test
Dovecot's Maildirs (read only). Python's standard library only; every
message is parsed with the email package's default policy.

  agent-e2e.py count MAILDIR [HEADER SUBSTRING]
      How many messages (whose HEADER contains SUBSTRING).
  agent-e2e.py mbox MAILDIR OUT HEADER SUBSTRING
      Write the newest message whose HEADER contains SUBSTRING to OUT as an
      mbox (for a mail client to reply to); fail when there is none.
  agent-e2e.py get MAILDIR HEADER SUBSTRING FIELD
      Print FIELD of the newest such message: a header name, "body" (the
      text/plain part), "raw", "attachments" (name type sha256 per line) or
      "defects".
  agent-e2e.py thread MAILDIR
      The mailbox as its owner sees it, headers only, oldest first.
"""
import email
import email.policy
import hashlib
import mailbox
import os
import sys
import time

SHOWN = ("Date", "From", "To", "Cc", "Reply-To", "Subject", "Message-ID",
         "In-Reply-To", "References", "Auto-Submitted")


def messages(maildir):
    out = []
    for sub in ("new", "cur"):
        d = os.path.join(maildir, sub)
        if not os.path.isdir(d):
            continue
        for name in os.listdir(d):
            path = os.path.join(d, name)
            with open(path, "rb") as f:
                raw = f.read()
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            # Maildir names start with the delivery time: arrival order
            out.append((name, raw, msg))
    out.sort(key=lambda t: t[0])
    return out


def matching(maildir, header, needle):
    return [(raw, m) for _, raw, m in messages(maildir)
            if header is None or needle in str(m.get(header, ""))]


def defects(msg):
    found = []
    for part in msg.walk():
        found += ["%s: %s" % (part.get_content_type(), type(d).__name__) for d in part.defects]
        for name, value in part.items():
            found += ["header %s: %s" % (name, type(d).__name__)
                      for d in getattr(value, "defects", ())]
    return found


def body(msg):
    part = msg.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def newest(maildir, header, needle):
    found = matching(maildir, header, needle)
    if not found:
        sys.exit("agent-e2e: no message in %s with %s containing %r" % (maildir, header, needle))
    return found[-1]


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "count":
        header, needle = (args[1], args[2]) if len(args) > 2 else (None, None)
        print(len(matching(args[0], header, needle)))
    elif cmd == "mbox":
        raw, _ = newest(args[0], args[2], args[3])
        stamp = time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime())
        text = raw.replace(b"\r\n", b"\n")
        # mboxrd quoting of body lines that look like separators
        lines = [b">" + l if l.lstrip(b">").startswith(b"From ") else l
                 for l in text.split(b"\n")]
        with open(args[1], "wb") as f:
            f.write(b"From MAILER-DAEMON " + stamp.encode() + b"\n")
            f.write(b"\n".join(lines).rstrip(b"\n") + b"\n\n")
    elif cmd == "get":
        raw, m = newest(args[0], args[1], args[2])
        field = args[3]
        if field == "body":
            sys.stdout.write(body(m))
        elif field == "raw":
            sys.stdout.buffer.write(raw)
        elif field == "attachments":
            for part in m.iter_attachments():
                data = part.get_payload(decode=True) or b""
                print(part.get_filename(), part.get_content_type(),
                      hashlib.sha256(data).hexdigest())
        elif field == "defects":
            for d in defects(m):
                print(d)
        else:
            value = m.get(field)
            print("" if value is None else str(value))
    elif cmd == "thread":
        for i, (_, raw, m) in enumerate(messages(args[0]), 1):
            print("--- message %d (%d bytes%s)" % (
                i, len(raw), ", %d attachment(s)" % len(list(m.iter_attachments()))
                if m.is_multipart() else ""))
            for h in SHOWN:
                if m.get(h) is not None:
                    print("%s: %s" % (h, m.get(h)))
    else:
        sys.exit("agent-e2e: unknown command " + cmd)


if __name__ == "__main__":
    main()
