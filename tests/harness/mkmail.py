#!/usr/bin/env python3
"""mkmail: deterministic, realistic support mail for tests and benchmarks.

  mkmail.py --count N [--start I] [--seed S] [--size tiny|small|mixed]
            (--maildir DIR [--owner UID:GID] | --dir DIR)

Writes N messages: English and Chinese customer mail about a crypto
exchange (deposits, withdrawals, KYC, 2FA), plain text, HTML alternatives,
GB18030 and UTF-8 bodies in quoted-printable and base64, RFC 2047 subjects,
some replies (In-Reply-To an earlier message), and with --size mixed some
attachments (PNG/PDF-like random bytes, 5-300 KiB), about 15 KiB on
average. Message i always has Message-ID <mk-I@mkmail.example> and the
same bytes for the same seed.

--maildir writes straight into DIR/new (Dovecot picks them up), like a
delivery agent: tmp/ then rename; --owner chowns the files. --dir writes
DIR/I.eml.
"""
import argparse
import os
import random
import socket
import time
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from datetime import datetime, timezone, timedelta
from email.headerregistry import Address

EN_SUBJECTS = [
    "Deposit not credited after 3 hours", "Withdrawal stuck in pending",
    "Cannot pass KYC verification", "2FA reset request", "Account locked after login attempts",
    "Wrong network used for USDT deposit", "Trading fee question", "API key permissions",
    "P2P order dispute", "Refund for failed card payment",
]
ZH_SUBJECTS = [
    "充值三小时仍未到账", "提现一直处于审核中", "实名认证无法通过", "申请重置谷歌验证",
    "账户被锁定无法登录", "USDT充错网络怎么办", "关于交易手续费的问题", "法币订单申诉",
]
EN_BODY = [
    "Hello support,\n\nI deposited {amt} USDT to my account {n} hours ago (TxID {tx}) "
    "but my balance still shows zero. Order number {order}. Please check.\n",
    "Hi,\n\nMy withdrawal of {amt} BTC has been pending since yesterday. The order id is "
    "{order}. I need the funds urgently, please help.\n",
    "Dear team,\n\nI uploaded my passport three times and the verification keeps failing "
    "with 'document unclear'. Can someone look at it manually? UID {order}.\n",
    "Hello,\n\nI lost my phone and cannot log in because of 2FA. I can provide my ID and "
    "a selfie. Account email is the one I am writing from.\n",
]
ZH_BODY = [
    "您好：\n\n我在{n}小时前充值了{amt} USDT，交易哈希 {tx}，但是账户余额一直没有变化。"
    "订单号 {order}，麻烦尽快处理。\n",
    "客服你好，\n\n我的提现申请（订单 {order}）已经审核超过一天了，请问什么时候能到账？\n",
    "你好，\n\n实名认证上传了三次护照照片，一直提示证件不清晰，能否人工审核？谢谢！\n",
]
NAMES_EN = ["Alice Walker", "Bob Chen", "Carlos Diaz", "Dana Scott", "Erik Larsen"]
NAMES_ZH = ["王小明", "李华", "张伟", "陈静", "刘洋"]
SIG = "\n-- \nSent from my phone\n"


def quoted(text):
    return "".join("> " + l + "\n" for l in text.splitlines())


def sender(i, seed):
    """Message i's customer: the same for a reply as for what it answers."""
    rng = random.Random(seed * 7919 + i)
    zh = rng.random() < 0.4
    if zh:
        name = rng.choice(NAMES_ZH)
        local = "user%d" % rng.randint(1, 400)
    else:
        name = rng.choice(NAMES_EN)
        local = name.split()[0].lower() + str(rng.randint(1, 400))
    domain = rng.choice(["gmail.example", "qq.example", "outlook.example", "163.example"])
    return zh, name, local, domain


def make_tiny(i, seed):
    """Built by hand, no email package: fast, for tests that need many."""
    zh, name, local, domain = sender(i, seed)
    subj = "=?UTF-8?B?5YWF5YC85pyq5Yiw6LSm?= %d" % i if zh else "Deposit not credited %d" % i
    body = ("order %012d: my deposit of %d USDT has not arrived.\r\n" % (i * 7919, i % 5000))
    return ("From: %s@%s\r\nTo: support@example.test\r\nSubject: %s\r\n"
            "Message-ID: <mk-%d@mkmail.example>\r\nDate: Wed, 01 Jan 2025 00:00:00 +0000\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s"
            % (local, domain, subj, i, body)).encode()


def make(i, rng, size, seed):
    if size == "tiny":
        return make_tiny(i, seed)
    reply_to = None
    if i > 10 and rng.random() < 0.15:
        reply_to = rng.randint(max(1, i - 200), i - 1)
    zh, name, local, domain = sender(reply_to or i, seed)
    m = EmailMessage(policy=SMTP)
    if zh:
        subject = ZH_SUBJECTS[(reply_to or i) % len(ZH_SUBJECTS)]
        body = rng.choice(ZH_BODY)
    else:
        subject = EN_SUBJECTS[(reply_to or i) % len(EN_SUBJECTS)]
        body = rng.choice(EN_BODY)
    body = body.format(amt=rng.randint(10, 50000), n=rng.randint(1, 48),
                       tx="0x%064x" % rng.getrandbits(256), order="%012d" % rng.getrandbits(38))
    if reply_to:
        subject = ("回复：" if zh else "Re: ") + subject
        body += "\n" + quoted("Earlier message text about order %d" % reply_to)
    m["From"] = Address(name, local, domain)
    m["To"] = Address("Support", "support", "example.test")
    m["Subject"] = subject
    m["Message-ID"] = "<mk-%d@mkmail.example>" % i
    if reply_to:
        m["In-Reply-To"] = "<mk-%d@mkmail.example>" % reply_to
        m["References"] = "<mk-%d@mkmail.example>" % reply_to
    date = datetime(2025, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=i)
    m["Date"] = format_datetime(date)
    text = body + SIG
    if size == "mixed":
        # pad some mails with a longer history, like real threads
        if rng.random() < 0.3:
            text += "\n" + quoted(body * rng.randint(5, 40))
    charset = "gb18030" if zh and rng.random() < 0.5 else "utf-8"
    m.set_content(text, charset=charset,
                  cte="base64" if rng.random() < 0.5 else "quoted-printable")
    if rng.random() < 0.3:
        html = "<html><body><p>" + text.replace("\n\n", "</p><p>").replace("\n", "<br>") + \
            "</p></body></html>"
        m.add_alternative(html, subtype="html", charset="utf-8")
    if size == "mixed" and rng.random() < 0.25:
        kind = rng.choice([("image", "png", "screenshot.png"), ("application", "pdf", "statement.pdf"),
                           ("image", "jpeg", "护照.jpg")])
        n = int(rng.paretovariate(1.5) * 5 * 1024)
        n = min(n, 300 * 1024)
        m.add_attachment(rng.randbytes(n), maintype=kind[0], subtype=kind[1], filename=kind[2])
    data = m.as_bytes()
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--start", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--size", default="mixed", choices=["tiny", "small", "mixed"])
    ap.add_argument("--maildir")
    ap.add_argument("--owner")
    ap.add_argument("--dir")
    a = ap.parse_args()
    uid = gid = None
    if a.owner:
        uid, gid = (int(x) for x in a.owner.split(":"))
    host = socket.gethostname()
    total = 0
    for i in range(a.start, a.start + a.count):
        rng = random.Random(a.seed * 1000003 + i)
        data = make(i, rng, a.size, a.seed)
        total += len(data)
        if a.maildir:
            name = "%d.M%dP%d.%s,S=%d" % (1700000000 + i, i, os.getpid(), host, len(data))
            tmp = os.path.join(a.maildir, "tmp", name)
            with open(tmp, "wb") as f:
                f.write(data)
            if uid is not None:
                os.chown(tmp, uid, gid)
            os.rename(tmp, os.path.join(a.maildir, "new", name))
        else:
            with open(os.path.join(a.dir, "%d.eml" % i), "wb") as f:
                f.write(data)
    print("wrote %d messages, %d bytes" % (a.count, total))


if __name__ == "__main__":
    main()
