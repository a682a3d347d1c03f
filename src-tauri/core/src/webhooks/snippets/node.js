// Pitchbar webhook receiver: checks X-Pitchbar-Signature, then handles the event.
// Node.js 16+, standard library only. Run: node pitchbar-webhook.js  (port: $PORT, default 3000)
const http = require("node:http");
const crypto = require("node:crypto");

// The endpoint's signing secret. The whole string, "whsec_" included, is the HMAC key.
const SECRET = "__PITCHBAR_SECRET__";
// Older (or newer) signatures are refused, so a captured request cannot be replayed later.
const TOLERANCE_SECONDS = 300;

// Returns null when the request is authentic, else why not.
function verify(header, rawBody) {
  if (!header) return "missing X-Pitchbar-Signature header";
  let t = null;
  const v1 = [];
  for (const part of header.split(",")) {
    const i = part.indexOf("=");
    if (i < 0) continue;
    const key = part.slice(0, i).trim();
    const value = part.slice(i + 1).trim();
    if (key === "t") t = value;
    else if (key === "v1") v1.push(value);
  }
  if (!t || !/^\d+$/.test(t) || v1.length === 0) return "malformed X-Pitchbar-Signature header";
  const expected = crypto.createHmac("sha256", SECRET).update(`${t}.`).update(rawBody).digest();
  // While a secret is being rotated there is one v1 per valid secret: any match will do.
  const matches = v1.some((sig) => {
    const given = Buffer.from(sig, "hex");
    return given.length === expected.length && crypto.timingSafeEqual(given, expected);
  });
  if (!matches) return "signature mismatch";
  if (Math.abs(Math.floor(Date.now() / 1000) - Number(t)) > TOLERANCE_SECONDS) {
    return "timestamp outside the 5-minute tolerance";
  }
  return null;
}

const port = Number(process.env.PORT) || 3000;
http
  .createServer((req, res) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      // The exact bytes that were signed: verify before parsing, never a re-serialized copy.
      const rawBody = Buffer.concat(chunks);
      const error = verify(req.headers["x-pitchbar-signature"], rawBody);
      if (error) {
        res.writeHead(400, { "Content-Type": "text/plain" }).end(error + "\n");
        return;
      }
      const event = JSON.parse(rawBody.toString("utf8"));
      // X-Pitchbar-Delivery is the same on every retry: use it to skip duplicates.
      console.log(event.event, req.headers["x-pitchbar-delivery"]);
      // Handle the event here; answer within 5 seconds and do slow work afterwards.
      res.writeHead(200, { "Content-Type": "text/plain" }).end("ok\n");
    });
  })
  .listen(port, () => console.log(`listening on port ${port}`));
