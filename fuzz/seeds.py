#!/usr/bin/env python3
"""Writes the fuzz targets' seed inputs to fuzz/corpus/<target>/ (the fuzzer adds its own
finds beside them): the spec's signature test vectors (tests/vectors/signatures.json) and the
cases the core's tests use. Usage: fuzz/seeds.py [corpus dir]  (default: fuzz/corpus)."""

import hashlib
import hmac
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus")
VECTORS = json.load(open(os.path.join(ROOT, "tests", "vectors", "signatures.json")))["vectors"]


def write(target, name, data):
    folder = os.path.join(OUT, target)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(folder, "seed-" + name), "wb") as f:
        f.write(data)


def sign(secret, t, body):
    return hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()


BODY = '{"event":"lead.captured","occurred_at":"2027-01-15T08:00:00Z","data":{"lead_id":"01J","name":"Ada"}}'

# signature_header: every vector's header, and the malformed shapes of the tests.
headers = [v["header"] for v in VECTORS] + [
    "t=abc,v1=zz",
    "t=1778155200",
    "v1=" + "ab" * 32,
    "t=1778155200,v0=" + "ab" * 32,
    "t=1778155200, v1=" + "ab" * 32 + " ,v2=x",
    "t=1,t=2,v1=" + "00" * 32,
    "t=-5,v1=" + "00" * 32,
    "t=1778155200,v1=" + "AB" * 32,
    ",".join(f"x{i}=1" for i in range(40)) + ",t=1",
    "garbage",
    "",
]
for i, h in enumerate(headers):
    write("signature_header", f"{i:02}", h)

# verify: header \n secrets \n now \n body.
for i, v in enumerate(VECTORS):
    secrets = " ".join(v["secrets"])
    t = v["timestamp"]
    write("verify", f"vector-{i:02}", f"{v['header']}\n{secrets}\n{t}\n{v['body']}")
    write("verify", f"late-{i:02}", f"{v['header']}\n{secrets}\n{t + 900}\n{v['body']}")
    write("verify", f"altered-{i:02}", f"{v['header']}\n{secrets}\n{t}\n{v['body']} ")
    try:
        pretty = json.dumps(json.loads(v["body"]), indent=2, ensure_ascii=False)
    except ValueError:
        continue  # a vector whose body is not JSON
    write("verify", f"pretty-{i:02}", f"{v['header']}\n{secrets}\n{t}\n{pretty}")
write("verify", "no-header", f"-\nwhsec_abc\n1778155200\n{BODY}")
write("verify", "no-secret", f"{VECTORS[0]['header']}\n\n1778155200\n{BODY}")
crlf = BODY.replace(",", ",\r\n")
write("verify", "crlf", f"t=1778155200,v1={sign('whsec_abc', 1778155200, BODY.encode())}\nwhsec_abc\n1778155200\n{crlf}")

# deep_link: the callback tests' links and queries.
links = [
    "pitchbar://oauth/callback?code=c1&state=s1&iss=https%3A%2F%2Fx",
    "pitchbar://oauth/callback?error=access_denied&state=s1&error_description=The+user+said+no",
    "pitchbar://oauth/callback/?error=access_denied",
    "https://oauth/callback?code=c&state=s",
    "pitchbar://evil/callback?code=c&state=s",
    "pitchbar://oauth:99/callback?code=c&state=s",
    "pitchbar://u@oauth/callback?code=c&state=s",
    "pitchbar://oauth/callback?code=c&state=s#frag",
    "pitchbar://oauth/callback?state=s&state=t&code=c",
    "pitchbar://oauth/callback?state=s&code=c&error=x",
    "state=s1&code=c1",
    "state=s%20x&error=invalid_scope&error_description=%E2%9C%93",
    "pitchbar://open",
    "not a url",
]
for i, link in enumerate(links):
    write("deep_link", f"{i:02}", link)

# socket_frames: frames as the fake Slack sends them, and the field form (\x1f-separated).
event = {"type": "message", "channel": "C0NOTIFY", "user": "U0HUMAN", "text": "Thanks, on it",
         "ts": "1778155300.000200", "thread_ts": "1778155200.000100", "channel_type": "channel"}
frames = [
    {"type": "hello", "num_connections": 1, "debug_info": {"host": "applink-fake"},
     "connection_info": {"app_id": "A0FAKE"}},
    {"type": "disconnect", "reason": "refresh_requested", "debug_info": {"host": "applink-fake"}},
    {"envelope_id": "9f1c7c1e-2f7e-4f5e-9d55-1c2b3a4d5e6f", "type": "events_api",
     "accepts_response_payload": False, "retry_attempt": 0, "retry_reason": "",
     "payload": {"team_id": "T0FAKE", "api_app_id": "A0FAKE", "type": "event_callback", "event": event}},
    {"envelope_id": "e2", "type": "events_api",
     "payload": {"team_id": "T0FAKE", "event": dict(event, bot_id="B0BOT")}},
    {"envelope_id": "e3", "type": "events_api",
     "payload": {"team_id": "T0FAKE", "event": dict(event, subtype="message_changed")}},
    {"envelope_id": "e4", "type": "slash_commands", "payload": {}},
]
for i, f in enumerate(frames):
    write("socket_frames", f"{i:02}", json.dumps(f))
write("socket_frames", "fields", "\x1f".join(["events_api", "e1", "C1", "1.0", "2.0", "hi", "T1", "U1", "\x00"]))

# providers_file: the shapes the tests write (URLs of fakes), a CA, and refusals.
base = "https://127.0.0.1:8443"
oauth = {"client_id": "pitchbar-test", "client_secret": "test-secret",
         "authorize_url": base + "/authorize", "token_url": base + "/token",
         "revocation_url": base + "/token/revocation", "userinfo_url": base + "/me",
         "api_base_url": base + "/api", "scopes": ["openid", "email", "profile"]}
files = [
    {"ca_certificates": ["ca.pem"],
     "providers": {"notion": dict(oauth, revocation_url=base + "/notion/v1/oauth/revoke"),
                   "google-docs": oauth,
                   "mailchimp": dict(oauth, metadata_url=base + "/mailchimp/metadata")}},
    {"providers": {"slack": dict(oauth, app_token="xapp-1-A0-123-abc")},
     "incoming_webhooks": {"microsoft-teams": {"url_prefix": base + "/teams/"},
                           "discord": {"url_prefix": base + "/discord/api/webhooks/"}}},
    {"api_keys": {"shopify": {"base_url": base + "/shopify/{shop}"}, "segment": {"base_url": base + "/segment"}}},
    {"providers": {"zendesk": {"client_id": "z", "authorize_url": "https://{subdomain}.zendesk.com/oauth/authorizations/new"}}},
    {"providers": {"notion": {"revocation_style": "rfc7009"}}},
    {"providers": {"not-an-integration": {}}},
    {"providers": {"notion": {"unknown": 1}}},
    {"ca_certificates": ["missing.pem"]},
    {},
]
for i, f in enumerate(files):
    write("providers_file", f"{i:02}", json.dumps(f, indent=2))
write("providers_file", "not-json", "{\"providers\": ")

# api_bodies: route byte, content-type byte, body (the API tests' bodies).
api = [
    (0, 0, {"name": "Alex Rivera", "email": "alex@example.com", "fields": {"company": "Acme"}}),
    (0, 1, {"name": "A", "phone": "+1 555 0100"}),
    (1, 0, {"phone": "+1 555 0100", "fields": {"budget": "10k"}}),
    (1, 2, {"fields": {"team_size": None}}),
    (2, 0, {"visitor": {"name": "Sam", "email": "sam@example.com"}}),
    (2, 4, None),
    (3, 0, {"direction": "inbound", "text": "Hi"}),
    (3, 0, {"direction": "outbound", "text": "Hello!"}),
    (4, 0, {"reason": "Asked for sales"}),
    (5, 0, {"reason": "done"}),
    (0, 3, {"name": "wrong content type"}),
    (0, 0x80, {"name": "wrong key"}),
]
for i, (route, ct, body) in enumerate(api):
    write("api_bodies", f"{i:02}", bytes([route, ct]) + (b"" if body is None else json.dumps(body).encode()))
write("api_bodies", "leads-query", bytes([6, 0]) + b"limit=2&since=2027-01-01T00:00:00Z")
write("api_bodies", "deliveries-query", bytes([7, 0]) + b"limit=5&cursor=")

# receiver: mode byte, then raw bytes (0) or the request as text (1 unsigned, 2 signed).
v = VECTORS[0]
raw = (f"POST /hooks/lead?x=1&y=two HTTP/1.1\r\nHost: 127.0.0.1:4788\r\nContent-Type: application/json\r\n"
       f"X-Pitchbar-Signature: {v['header']}\r\nContent-Length: {len(v['body'].encode())}\r\n\r\n{v['body']}")
write("receiver", "raw-signed", b"\x00" + raw.encode())
chunked = ("POST /c HTTP/1.1\r\nHost: 127.0.0.1:4788\r\nTransfer-Encoding: chunked\r\n\r\n"
           "5\r\nhello\r\n0\r\n\r\n")
write("receiver", "raw-chunked", b"\x00" + chunked.encode())
write("receiver", "raw-pipelined", b"\x00" + (f"GET /a HTTP/1.1\r\nHost: 127.0.0.1:4788\r\n\r\n" * 2).encode())
write("receiver", "raw-cross-site", b"\x00" + b"POST /x HTTP/1.1\r\nHost: 127.0.0.1:4788\r\nOrigin: https://example.com\r\nSec-Fetch-Site: cross-site\r\nContent-Length: 2\r\n\r\n{}")
write("receiver", "raw-rebinding", b"\x00" + b"POST /x HTTP/1.1\r\nHost: attacker.test:4788\r\nContent-Length: 2\r\n\r\n{}")
text = f"PUT /hooks/lead?x=1\nContent-Type: application/json\nX-Custom: first\nX-Custom: second\n\n{BODY}"
write("receiver", "text-unsigned", b"\x01" + text.encode())
write("receiver", "text-signed", b"\x02" + text.encode())
write("receiver", "text-auth", b"\x02" + f"POST /h\nAuthorization: Bearer abc\nCookie: a=b\n\n{BODY}".encode())
write("receiver", "text-bad-signature", b"\x01" + f"POST /h\nX-Pitchbar-Signature: t=abc,v1=zz\n\n{BODY}".encode())
