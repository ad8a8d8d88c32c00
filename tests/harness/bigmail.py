#!/usr/bin/env python3
"""bigmail: a customer mail with one large attachment, for the over-size
tests. Writes the message to OUT and the attachment's SHA-256 to stdout.

  bigmail.py OUT SIZE [--seed S] [--msgid ID] [--name FILE]

SIZE is the attachment's size in bytes (random, base64 in the mail, so the
message is about 4/3 of it); the same seed gives the same bytes.
"""
import argparse
import hashlib
import random
from email.message import EmailMessage
from email.policy import SMTP

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("size", type=int)
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--msgid", default=None)
ap.add_argument("--name", default="statement.pdf")
a = ap.parse_args()
rng = random.Random(a.seed)
data = rng.randbytes(a.size)
m = EmailMessage(policy=SMTP)
m["From"] = "Big Sender <big%d@example.net>" % a.seed
m["To"] = "support@example.test"
m["Subject"] = "Statement attached (%d bytes)" % a.size
m["Message-ID"] = "<%s>" % (a.msgid or "big-%d-%d@example.net" % (a.seed, a.size))
m.set_content("Hello,\n\nmy account statement is attached: the withdrawal is missing.\n")
m.add_attachment(data, maintype="application", subtype="pdf", filename=a.name)
with open(a.out, "wb") as f:
    f.write(m.as_bytes())
print(hashlib.sha256(data).hexdigest())
