#!/usr/bin/env python3
"""Regenerate man/deskgate.conf.5 from the key table (`deskgate config keys`).

The page is committed; tests/unit/check-config-doc.sh fails when a key is
missing from it, so run this after adding a key:
    python3 man/gen-conf-page.py build/deskgate > man/deskgate.conf.5
Section introductions live in SECTIONS below.
"""
import subprocess, sys

SECTIONS = {
    "general": "Where deskgate keeps its state, and who the support desk is.",
    "limits": "Bounds on untrusted input. A message that exceeds one is quarantined with its raw bytes "
              "and a reason naming the key, never dropped; raise the limit and run "
              "\\fBdeskgate quarantine retry\\fR.",
    "smtp": "The relay that all outgoing mail (acknowledgements, notifications, relayed replies) goes through.",
    "mailbox": "One section per IMAP mailbox to watch, named \\fB[mailbox\\fR \\fINAME\\fR\\fB]\\fR. "
               "A message is flagged or moved on the server only after its ticket is committed.",
    "ack": "Acknowledgements: the first mail a customer gets, from the templates "
           "(mustache; \\fBdeskgate template check|render\\fR). Never sent to automatic mail, "
           "bounces, lists, our own mail, or beyond the rate limits.",
    "hours": "Business hours and first-response targets: the acknowledgement promises an answer "
             "by the target, counted in business time.",
    "selfhelp": "Self-help links, per category, shown in the acknowledgement (space-separated URLs).",
    "rules": "Classification rules; the language is in \\fBdeskgate\\-rules\\fR(5).",
    "threading": "How replies find their ticket: signed reply addresses, references, subject tags; "
                 "see docs/threading.md.",
    "agent": "One section per agent, named \\fB[agent\\fR \\fINAME\\fR\\fB]\\fR: agents answer "
             "tickets by replying to their notifications.",
    "queue": "One section per queue, named \\fB[queue\\fR \\fINAME\\fR\\fB]\\fR: which "
             "categories it takes and which agents serve it.",
    "log": "Where the unattended commands (\\fBrun\\fR, \\fBingest\\fR) log; the level is "
           "\\fB[general] log_level\\fR. Read at start.",
    "metrics": "The Prometheus endpoint of \\fBdeskgate run\\fR (text format 0.0.4); the families "
               "are listed in docs/metrics.md.",
    "alerts": "Outages the desk tells its supervisors of by mail, once when one starts and once "
              "when it ends: a mailbox that cannot log in (docs/operations.md).",
}


def esc(s):
    return s.replace("\\", "\\e").replace("-", "\\-")


def main():
    out = subprocess.run([sys.argv[1], "config", "keys"], check=True, capture_output=True, text=True).stdout
    rows = [l.split("\t") for l in out.splitlines() if l]
    print('.TH DESKGATE.CONF 5 "November 2026" "deskgate 0.1" "File Formats Manual"')
    print(".SH NAME\ndeskgate.conf \\- deskgate configuration file")
    print(".SH DESCRIPTION")
    print("An INI file read with libinih. Lines starting with \\fB#\\fR or \\fB;\\fR are comments; "
          "sections are \\fB[name]\\fR or, for repeatable sections, \\fB[name\\fR \\fILABEL\\fR\\fB]\\fR; "
          "settings are \\fIkey\\fR = \\fIvalue\\fR. Unknown sections, unknown keys and bad values are "
          "errors that name file:line. \\fBdeskgate config check\\fR loads a file and everything "
          "it names (rules, templates, the threading secret, business hours, agents and queues) as the "
          "daemon does, "
          "\\fBdeskgate config keys\\fR lists every key, \\fBdeskgate init\\fR writes a file with all of "
          "them commented out.")
    print(".PP\nSizes take a k, M or G suffix (powers of 1024); durations s, m, h, d or w "
          "(seconds by default); booleans yes or no. Relative paths are relative to the directory of "
          "the configuration file, except where a key says \"relative to state_dir\".")
    print(".PP\nA line may be up to 128 KiB long. A key of type \\fBlist\\fR may be given several "
          "times in its section: the items add up, so a long list can be written one line per item "
          "or on one line, as in")
    print(".RS\n.nf\n[rules]\nvip_senders = ceo@big.example, fund.example\nvip_senders = "
          "partner.example\n.fi\n.RE\nAny other key given twice keeps the last value. Each key's "
          "length limit applies to the whole list.")
    cur = None
    for name, typ, default, doc in rows:
        sec, key = name.split(".", 1)
        label = sec
        if sec != cur:
            cur = sec
            base = sec.replace(" NAME", "")
            print(".SH [%s]" % esc(sec))
            if base in SECTIONS:
                print(SECTIONS[base])
        print(".TP\n.B %s" % key)
        d = "" if default == "-" else " Default: \\fB%s\\fR." % esc(default)
        print("(%s) %s%s" % (esc(typ), esc(doc), d))
    print(".SH SEE ALSO\n.BR deskgate (8),\n.BR deskgate\\-rules (5)")


main()
