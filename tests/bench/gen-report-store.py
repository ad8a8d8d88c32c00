#!/usr/bin/env python3
"""Fill a deskgate store with a generated history for reports.

Usage: gen-report-store.py DB --tickets N --days D [--end EPOCH] [--seed S]

DB is a store already created by deskgate (any command that opens it
applies the migrations). The history: N tickets over the D days before
--end, arriving more on weekdays and in office hours (UTC); languages,
categories, queues, priorities and six agents drawn with fixed weights;
first responses and resolutions log-normal (medians about 2 h and 30 h);
96% of tickets older than two days closed and all older than three weeks, 5% reopened once, 8% with the
category changed by an agent; one rule hit per ticket; a survey for 60% of
the closed tickets, 45% of them answered. Rows go straight into the tables
(one transaction, synchronous off): this builds a benchmark's store, not
a way to store mail.
"""
import argparse
import math
import random
import sqlite3
import sys
import time

SHA = "0" * 64
LANGS = [("zh-CN", 35), ("en", 35), ("fr", 10), ("de", 10), ("zh-TW", 10)]
CATS = [("failed_trade", 22), ("delayed_payment", 25), ("account_security", 14),
        ("registration", 16), ("complaint", 8), ("other", 15)]
QUEUES = [(None, 70), ("vip", 10), ("payments", 20)]
PRIOS = [("normal", 70), ("high", 20), ("urgent", 5), ("low", 5)]
AGENTS = ["anna@desk.example", "li.wei@desk.example", "jonas@desk.example",
          "chloe@desk.example", "zhang.min@desk.example", "omar@desk.example"]
TARGET = {"urgent": 3600, "high": 4 * 3600, "normal": 24 * 3600, "low": 48 * 3600}
# arrivals by hour (UTC) and by weekday (Monday first)
HOURS = [2, 1, 1, 1, 2, 3, 5, 8, 12, 14, 15, 13, 10, 12, 14, 13, 11, 9, 7, 6, 5, 4, 3, 2]
WEEKDAYS = [16, 15, 15, 14, 13, 7, 6]
SUBJECTS = {"failed_trade": ["Order failed but funds locked", "交易失败，资金被冻结"],
            "delayed_payment": ["Withdrawal still pending", "提现三天未到账", "Auszahlung fehlt"],
            "account_security": ["Someone logged into my account", "Compte bloqué"],
            "registration": ["Cannot verify my ID", "注册验证码收不到"],
            "complaint": ["Very unhappy with the service", "Réclamation"],
            "other": ["Question about fees", "Frage zu Gebühren"]}
COMMENTS = {5: ["Quick and kind, thank you!", "非常满意，谢谢", "Super, merci !"],
            4: ["Good, but it took a day", "Gut, danke"],
            3: ["ok", "一般"],
            2: ["Pas content, trop lent", "The withdrawal is still pending"],
            1: ["Nobody answered for three days", "太慢了"]}


def pick(rng, weighted):
    total = sum(w for _, w in weighted)
    x = rng.uniform(0, total)
    for v, w in weighted:
        x -= w
        if x <= 0:
            return v
    return weighted[-1][0]


def lognormal(rng, median, sigma):
    return int(median * math.exp(rng.gauss(0, sigma)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("db")
    ap.add_argument("--tickets", type=int, required=True)
    ap.add_argument("--days", type=int, required=True)
    ap.add_argument("--end", type=int, default=int(time.time()) // 86400 * 86400)
    ap.add_argument("--seed", type=int, default=14)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    start = a.end - a.days * 86400
    # the days of the period weighted by weekday
    day_w = [(d, WEEKDAYS[((start + d * 86400) // 86400 + 3) % 7]) for d in range(a.days)]
    hour_w = list(enumerate(HOURS))

    db = sqlite3.connect(a.db, isolation_level=None)
    # A scratch build: no journal, a large cache; WAL again at the end.
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA cache_size = -262144")
    db.execute("BEGIN")
    (base,) = db.execute("SELECT coalesce(max(id), 0) FROM tickets").fetchone()
    (mbase,) = db.execute("SELECT coalesce(max(id), 0) FROM messages").fetchone()
    tickets, messages, events, hits, surveys = [], [], [], [], []
    mid = mbase

    def flush():
        db.executemany("INSERT INTO tickets (id, subject, status, category, priority, queue, "
                       "language, customer_address, created_at, updated_at, first_response_at, "
                       "due_at, assignee) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", tickets)
        db.executemany("INSERT INTO messages (id, ticket_id, direction, from_address, text, "
                       "text_sha256, dedupe_key, mailbox, created_at) "
                       "VALUES (?,?,?,?,'',?,?,?,?)", messages)
        db.executemany("INSERT INTO events (ticket_id, at, kind, detail) VALUES (?,?,?,?)",
                       events)
        db.executemany("INSERT INTO rule_hits (ticket_id, rule, at) VALUES (?,?,?)", hits)
        db.executemany("INSERT INTO surveys (ticket_id, customer, sent_at, score, comment, "
                       "assignee, voted_at, votes) VALUES (?,?,?,?,?,?,?,?)", surveys)
        for x in (tickets, messages, events, hits, surveys):
            x.clear()

    for i in range(a.tickets):
        tid = base + i + 1
        day = pick(rng, day_w)
        created = start + day * 86400 + pick(rng, hour_w) * 3600 + rng.randrange(3600)
        lang, cat, queue, prio = pick(rng, LANGS), pick(rng, CATS), pick(rng, QUEUES), pick(rng, PRIOS)
        agent = rng.choice(AGENTS)
        customer = "c%d@example.net" % rng.randrange(a.tickets // 3 + 1)
        due = created + TARGET[prio]
        frt = lognormal(rng, 2 * 3600 if prio != "urgent" else 1800, 1.1)
        first = created + frt if created + frt < a.end else 0
        status, closed = ("open" if first else "new"), 0
        if created < a.end - 2 * 86400 and (rng.random() < 0.96 or created < a.end - 21 * 86400):
            closed = min(created + max(frt, 0) + lognormal(rng, 28 * 3600, 1.0), a.end - 60)
            if closed > created:
                status = "closed"
            else:
                closed = 0
        mid += 1
        messages.append((mid, tid, "in", customer, SHA, "g%d" % mid, "INBOX", created))
        if first:
            mid += 1
            messages.append((mid, tid, "agent", agent, SHA, "g%d" % mid, "INBOX", first))
            if rng.random() < 0.4 and first + 3600 < a.end:
                mid += 1
                messages.append((mid, tid, "in", customer, SHA, "g%d" % mid, "INBOX", first + 3600))
        rules_cat = cat
        if rng.random() < 0.08:
            rules_cat = pick(rng, CATS)
            if rules_cat != cat:
                events.append((tid, created + 600, "agent",
                               "#category by %s: category %s -> %s" % (agent, rules_cat, cat)))
        hits.append((tid, "%s-words" % rules_cat, created))
        if closed:
            if rng.random() < 0.05 and first:
                events.append((tid, (first + closed) // 2, "reopened", "by a reply from " + customer))
            events.append((tid, closed, "agent", "#close by %s: status open -> closed" % agent))
            if rng.random() < 0.6:
                vote = rng.random() < 0.45
                score = pick(rng, [(5, 55), (4, 22), (3, 10), (2, 6), (1, 7)]) if vote else 0
                comment = rng.choice(COMMENTS[score]) if vote and rng.random() < 0.3 else None
                sent = closed + 60
                surveys.append((tid, customer, sent, score, comment, agent if vote else None,
                                sent + 1800 if vote else 0, 1 if vote else 0))
        tickets.append((tid, rng.choice(SUBJECTS[cat]), status, cat, prio, queue, lang, customer,
                        created, max(created, closed, first), first, due, agent))
        if len(tickets) == 20000:
            flush()
    flush()
    db.execute("COMMIT")
    db.execute("PRAGMA journal_mode = WAL")
    db.close()


if __name__ == "__main__":
    sys.exit(main())
