#!/usr/bin/env python3
"""Generate N realistic support mails into a maildir (deterministic by seed).

Mixed languages (English, Chinese in UTF-8 and GBK, German, French), sizes from
a few hundred bytes to ~300 KB, ~20% with a base64 PNG screenshot attachment (a real image), some
HTML-only bodies, some replies with quoted history. Used by the benchmarks.

usage: gen-corpus.py MAILDIR N [--seed S] [--mbox FILE]
"""
import argparse, base64, os, random, struct, time, zlib
from email.header import Header

EN = ["my withdrawal of {amt} USDT has been pending for two days",
      "the order {oid} failed but the funds are still locked",
      "I did not receive the verification code for registration",
      "my account was frozen after a login from an unknown device",
      "this is unacceptable, I want to file a complaint",
      "deposit of {amt} BTC not credited, tx hash {tx}",
      "how do I reset my 2FA, I lost my phone"]
ZH = ["我的提现 {amt} USDT 已经两天了还没有到账",
      "订单 {oid} 交易失败，但是资金被冻结了",
      "注册的时候收不到验证码",
      "账户被冻结了，有陌生设备登录",
      "我要投诉，你们的服务太差了",
      "充值 {amt} BTC 未到账，交易哈希 {tx}",
      "手机丢了，谷歌验证怎么重置"]
DE = ["Meine Auszahlung von {amt} USDT ist seit zwei Tagen ausstehend",
      "Die Order {oid} ist fehlgeschlagen, das Guthaben bleibt gesperrt"]
FR = ["Mon retrait de {amt} USDT est en attente depuis deux jours",
      "Je n'ai jamais reçu le code de vérification"]


def sentence(rnd, pool):
    s = rnd.choice(pool)
    return s.format(amt=rnd.randint(1, 50000), oid="A%07d" % rnd.randint(0, 9999999),
                    tx="0x" + "%064x" % rnd.getrandbits(256))


def message(rnd, i):
    lang = rnd.choices(["en", "zh", "zh-gbk", "de", "fr"], [45, 25, 10, 10, 10])[0]
    pool = {"en": EN, "zh": ZH, "zh-gbk": ZH, "de": DE, "fr": FR}[lang]
    n_sent = rnd.choice([2, 3, 5, 10, 30, 80])
    text = "\n".join(sentence(rnd, pool) for _ in range(n_sent)) + "\n"
    if rnd.random() < 0.25:
        text += "\n> " + "\n> ".join(sentence(rnd, EN) for _ in range(rnd.randint(3, 40))) + "\n"
    sender = "customer%d@example.com" % rnd.randint(1, 3000)
    subject = sentence(rnd, pool)[:60]
    date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(1790000000 + i * 37))
    charset = "gbk" if lang == "zh-gbk" else "utf-8"
    hdr = ["From: %s <%s>" % (Header("客户 %d" % i if lang.startswith("zh") else "Customer %d" % i, "utf-8").encode(), sender),
           "To: Support <support@example.test>",
           "Subject: " + Header(subject, charset).encode(),
           "Date: " + date,
           "Message-ID: <bench-%d-%d@example.com>" % (i, rnd.getrandbits(32)),
           "MIME-Version: 1.0"]
    body_bytes = text.encode(charset)
    attach = rnd.random() < 0.2
    html_only = rnd.random() < 0.1
    if html_only:
        inner = ("Content-Type: text/html; charset=%s\r\nContent-Transfer-Encoding: base64\r\n\r\n" % charset
                 + base64.encodebytes(("<html><body><p>" + text.replace("\n", "</p><p>") + "</p></body></html>").encode(charset)).decode().replace("\n", "\r\n"))
    else:
        inner = ("Content-Type: text/plain; charset=%s\r\nContent-Transfer-Encoding: base64\r\n\r\n" % charset
                 + base64.encodebytes(body_bytes).decode().replace("\n", "\r\n"))
    if attach:
        size = rnd.choice([20_000, 60_000, 150_000, 250_000])
        blob = png(rnd, size)
        b = "b%d" % i
        hdr.append('Content-Type: multipart/mixed; boundary="%s"' % b)
        body = ("--%s\r\n%s\r\n--%s\r\nContent-Type: image/png; name=\"screenshot-%d.png\"\r\n"
                "Content-Disposition: attachment; filename=\"screenshot-%d.png\"\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\n%s--%s--\r\n") % (
            b, inner, b, i, i, base64.encodebytes(blob).decode().replace("\n", "\r\n"), b)
        return ("\r\n".join(hdr) + "\r\n" + body).encode()
    return ("\r\n".join(hdr) + "\r\n" + inner).encode()


def png(rnd, size):
    """A real PNG screenshot of about size bytes: flat rows (window chrome,
    background) compress to nothing, rows of noise (photos, text) do not."""
    width = 800
    noise_rows = max(1, size // (width * 3))
    height = noise_rows + 200
    rows = []
    for y in range(height):
        if y % (height // noise_rows + 1) == 0 and noise_rows > 0:
            noise_rows -= 1
            rows.append(b"\x00" + rnd.getrandbits(width * 24).to_bytes(width * 3, "little"))
        else:
            rows.append(b"\x00" + bytes((240, 240, 240)) * width)
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"".join(rows), 6))
            + chunk(b"IEND", b""))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("maildir")
    ap.add_argument("n", type=int)
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(a.maildir, sub), exist_ok=True)
    total = 0
    for i in range(a.n):
        data = message(rnd, i)
        total += len(data)
        with open(os.path.join(a.maildir, "new", "%d.M%dP1.bench" % (1790000000 + i, i)), "wb") as f:
            f.write(data)
    print("%d messages, %d bytes" % (a.n, total))


if __name__ == "__main__":
    main()
