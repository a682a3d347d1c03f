# Pitchbar webhook receiver: checks X-Pitchbar-Signature, then handles the event.
# Python 3.7+, standard library only. Run: python3 pitchbar_webhook.py  (port: $PORT, default 3000)
import hashlib
import hmac
import json
import os
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# The endpoint's signing secret. The whole string, "whsec_" included, is the HMAC key.
SECRET = "__PITCHBAR_SECRET__"
# Older (or newer) signatures are refused, so a captured request cannot be replayed later.
TOLERANCE_SECONDS = 300


def verify(header, raw_body):
    """Returns None when the request is authentic, else why not."""
    if not header:
        return "missing X-Pitchbar-Signature header"
    t, v1 = None, []
    for part in header.split(","):
        key, sep, value = part.partition("=")
        if not sep:
            continue
        key, value = key.strip(), value.strip()
        if key == "t":
            t = value
        elif key == "v1":
            v1.append(value)
    if not t or not (t.isascii() and t.isdigit()) or not v1:
        return "malformed X-Pitchbar-Signature header"
    signed = t.encode() + b"." + raw_body
    expected = hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest().encode()
    # While a secret is being rotated there is one v1 per valid secret: any match will do.
    if not any(hmac.compare_digest(expected, sig.encode()) for sig in v1):
        return "signature mismatch"
    if abs(time.time() - int(t)) > TOLERANCE_SECONDS:
        return "timestamp outside the 5-minute tolerance"
    return None


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        # The exact bytes that were signed: verify before parsing, never a re-serialized copy.
        raw_body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        error = verify(self.headers.get("X-Pitchbar-Signature"), raw_body)
        if error:
            return self.answer(400, error)
        event = json.loads(raw_body)
        # X-Pitchbar-Delivery is the same on every retry: use it to skip duplicates.
        print(event["event"], self.headers.get("X-Pitchbar-Delivery"), flush=True)
        # Handle the event here; answer within 5 seconds and do slow work afterwards.
        self.answer(200, "ok")

    def answer(self, status, text):
        body = (text + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    port = int(os.environ.get("PORT") or 3000)
    server = ThreadingHTTPServer(("", port), Handler)
    print(f"listening on port {port}", flush=True)
    server.serve_forever()
