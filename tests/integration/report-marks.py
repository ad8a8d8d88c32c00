#!/usr/bin/env python3
"""The report page as Chromium left it (--dump-dom): the marks of each chart
(daily, heatmap, scores), the outside references (src/href) and the scripts,
printed as "DAILY HEATMAP SCORES REFS SCRIPTS". Used by test-report-html.sh
and test-report-mail.sh."""
import sys
from html.parser import HTMLParser


class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.chart, self.marks, self.refs, self.scripts = None, {}, 0, 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg":
            self.chart = a.get("data-chart")
            self.marks[self.chart] = 0
        if tag == "script":
            self.scripts += 1
        if "src" in a or "href" in a:
            self.refs += 1
        if "mark" in (a.get("class") or "").split() and self.chart:
            self.marks[self.chart] += 1

    def handle_endtag(self, tag):
        if tag == "svg":
            self.chart = None


p = P()
p.feed(open(sys.argv[1], encoding="utf-8").read())
print(p.marks.get("daily"), p.marks.get("heatmap"), p.marks.get("scores"), p.refs, p.scripts)
