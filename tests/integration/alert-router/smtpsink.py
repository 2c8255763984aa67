"""An SMTP server for the alert-router e-mail tests.

usage: smtpsink.py PORT OUT [USER:PASSWORD]

Speaks enough ESMTP (RFC 5321) for a mail client: EHLO/HELO, AUTH PLAIN and
LOGIN (advertised, and then required, when USER:PASSWORD is given), MAIL,
RCPT, DATA (dot-unstuffed), RSET, NOOP, QUIT.  It does not offer STARTTLS.
Appends one JSON line per accepted message to OUT:
  {"t", "helo", "auth", "from", "rcpt": [...], "headers": {name: value},
   "parts": {content-type: decoded text}, "raw"}
with headers decoded from RFC 2047 and parts from quoted-printable, so that
messages from two senders can be compared.
"""
import base64
import email
import email.header
import email.policy
import json
import socketserver
import sys
import threading
import time

port, out = int(sys.argv[1]), sys.argv[2]
cred = sys.argv[3] if len(sys.argv) > 3 else None
lock = threading.Lock()


def decode_header(v):
    return str(email.header.make_header(email.header.decode_header(v)))


def record(helo, auth, mail_from, rcpt, data):
    msg = email.message_from_bytes(data, policy=email.policy.compat32)
    headers = {k: decode_header(v) for k, v in msg.items()}
    parts = {}
    for p in msg.walk():
        if p.get_content_maintype() == "multipart":
            continue
        parts[p.get_content_type()] = p.get_payload(decode=True).decode("utf-8")
    rec = {"t": time.time(), "helo": helo, "auth": auth, "from": mail_from,
           "rcpt": rcpt, "headers": headers, "parts": parts,
           "raw": data.decode("utf-8", "replace")}
    with lock, open(out, "a") as f:
        f.write(json.dumps(rec) + "\n")


class Handler(socketserver.StreamRequestHandler):
    def send(self, line):
        self.wfile.write((line + "\r\n").encode())
        self.wfile.flush()

    def readline(self):
        line = self.rfile.readline()
        if not line:
            raise EOFError
        return line.decode("utf-8", "replace").rstrip("\r\n")

    def handle(self):
        helo, auth, mail_from, rcpt = "", "", None, []
        self.send("220 smtpsink ESMTP")
        try:
            while True:
                line = self.readline()
                verb = line.split(" ", 1)[0].upper()
                arg = line[len(verb):].strip()
                if verb in ("EHLO", "HELO"):
                    helo = arg
                    if verb == "HELO":
                        self.send("250 smtpsink")
                        continue
                    self.send("250-smtpsink")
                    if cred:
                        self.send("250-AUTH PLAIN LOGIN")
                    self.send("250 8BITMIME")
                elif verb == "AUTH":
                    mech, _, initial = arg.partition(" ")
                    if mech.upper() == "PLAIN":
                        if not initial:
                            self.send("334 ")
                            initial = self.readline()
                        _, user, pw = base64.b64decode(initial).decode().split("\0")
                    elif mech.upper() == "LOGIN":
                        if initial:
                            user = base64.b64decode(initial).decode()
                        else:
                            self.send("334 VXNlcm5hbWU6")
                            user = base64.b64decode(self.readline()).decode()
                        self.send("334 UGFzc3dvcmQ6")
                        pw = base64.b64decode(self.readline()).decode()
                    else:
                        self.send("504 unrecognized authentication type")
                        continue
                    if cred and cred == user + ":" + pw:
                        auth = mech.upper() + " " + user
                        self.send("235 2.7.0 Authentication successful")
                    else:
                        self.send("535 5.7.8 Authentication credentials invalid")
                elif verb == "MAIL":
                    if cred and not auth:
                        self.send("530 5.7.0 Authentication required")
                        continue
                    mail_from = arg.split(":", 1)[1].strip().split(" ")[0].strip("<>")
                    rcpt = []
                    self.send("250 2.1.0 Ok")
                elif verb == "RCPT":
                    if mail_from is None:
                        self.send("503 5.5.1 need MAIL first")
                        continue
                    rcpt.append(arg.split(":", 1)[1].strip().strip("<>"))
                    self.send("250 2.1.5 Ok")
                elif verb == "DATA":
                    if not rcpt:
                        self.send("503 5.5.1 need RCPT first")
                        continue
                    self.send("354 End data with <CR><LF>.<CR><LF>")
                    lines = []
                    while True:
                        raw = self.rfile.readline()
                        if not raw:
                            raise EOFError
                        if raw in (b".\r\n", b".\n"):
                            break
                        if raw.startswith(b".."):
                            raw = raw[1:]
                        lines.append(raw)
                    record(helo, auth, mail_from, rcpt, b"".join(lines))
                    mail_from, rcpt = None, []
                    self.send("250 2.0.0 Ok: queued")
                elif verb == "RSET":
                    mail_from, rcpt = None, []
                    self.send("250 2.0.0 Ok")
                elif verb == "NOOP":
                    self.send("250 2.0.0 Ok")
                elif verb == "QUIT":
                    self.send("221 2.0.0 Bye")
                    return
                else:
                    self.send("502 5.5.2 Error: command not recognized")
        except (EOFError, ConnectionError):
            return


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


Server(("127.0.0.1", port), Handler).serve_forever()
