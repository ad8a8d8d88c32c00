#!/usr/bin/env python3
"""A small OAuth2 token introspection endpoint (RFC 7662) for tests:
Dovecot's oauth2 passdb asks it whether an access token is valid.

Usage: oauth2-introspect.py PORT TOKENS_FILE LOG_FILE

TOKENS_FILE holds one "TOKEN USERNAME" per line and is read on every
request, so a test revokes a token (an expired or rotated refresh token)
by rewriting the file. POST /introspect with token=TOKEN (Dovecot's
introspection_mode = post) answers {"active": true, "username": ...} or
{"active": false}. Every request is appended to LOG_FILE as
"active USERNAME" or "inactive", never with the token itself.
Listens on 127.0.0.1 only.
"""
import json
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer


def lookup(path, token):
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                parts = line.split()
                if len(parts) == 2 and parts[0] == token:
                    return parts[1]
    except FileNotFoundError:
        pass
    return None


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        if n > 65536:
            self.send_error(413)
            return
        form = urllib.parse.parse_qs(self.rfile.read(n).decode("ascii", "replace"))
        token = form.get("token", [""])[0]
        user = lookup(self.server.tokens, token) if token else None
        body = {"active": True, "username": user} if user else {"active": False}
        with open(self.server.log, "a", encoding="utf-8") as f:
            f.write(("active %s" % user) if user else "inactive")
            f.write("\n")
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        pass


def main():
    port, tokens, log = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    srv = HTTPServer(("127.0.0.1", port), Handler)
    srv.tokens, srv.log = tokens, log
    srv.serve_forever()


if __name__ == "__main__":
    main()
