// The webhook documentation shown on the API & Webhooks tab: the canonical event catalog and
// the signature scheme (design.md, "Event catalog" and "Signing").

export interface WebhookEvent {
  name: string;
  firesWhen: string;
}

export const WEBHOOK_EVENTS: readonly WebhookEvent[] = [
  { name: "lead.captured", firesWhen: "The lead form was submitted." },
  { name: "lead.updated", firesWhen: "A lead's fields changed." },
  { name: "conversation.started", firesWhen: "A visitor started a conversation." },
  {
    name: "conversation.message",
    firesWhen: "A message was received or sent (see data.direction).",
  },
  {
    name: "conversation.routed",
    firesWhen: "The conversation needs a human and was routed to the inbox.",
  },
  { name: "conversation.closed", firesWhen: "The conversation ended." },
];

/** A worked example, so a reader can check their verifier against known values. */
export const EXAMPLE = {
  secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  timestamp: 1718000000,
  delivery: "01J02Z3M2A6C9E1G4J7K0N3Q5S",
  body: '{"event":"lead.captured","occurred_at":"2024-06-10T06:13:20Z","data":{"lead_id":"01J02Z3K8Q4W6T2N5V7X1Y3B8C","agent_id":"01J02Y9M4R7P2K5N8Q1W3E6T9Y","conversation_id":"01J02Z2F5H8K1M4P7R0T3V6X9Z","name":"Ada Lovelace","email":"ada@example.com","phone":null,"fields":{"company":"Analytical Engines"}}}',
  signature: "588a3e0944ea2254fc8397923bc3dd37910961528ed95fd143121e4b498a5a88",
} as const;

export const EXAMPLE_REQUEST = `POST /webhooks/pitchbar HTTP/1.1
Content-Type: application/json
X-Pitchbar-Event: lead.captured
X-Pitchbar-Delivery: ${EXAMPLE.delivery}
X-Pitchbar-Signature: t=${EXAMPLE.timestamp},v1=${EXAMPLE.signature}

${EXAMPLE.body}`;

export const SIGNATURE_SCHEME = `signed_payload = "{t}.{raw request body}"
v1 = hex( HMAC-SHA256( key = "whsec_…" (the whole secret), signed_payload ) )`;

export const VERIFY_SNIPPET = `import crypto from "node:crypto";

// rawBody: the request body exactly as received (a Buffer or string), before JSON parsing.
export function verify(rawBody, signatureHeader, secret, toleranceSeconds = 300) {
  const parts = signatureHeader.split(",").map((part) => part.split("="));
  const t = Number(parts.find(([k]) => k === "t")?.[1]);
  const signatures = parts.filter(([k]) => k === "v1").map(([, v]) => v);
  if (!Number.isFinite(t) || Math.abs(Date.now() / 1000 - t) > toleranceSeconds) return false;

  const expected = crypto.createHmac("sha256", secret).update(\`\${t}.\${rawBody}\`).digest("hex");
  // During a secret rotation the header carries one v1= per valid secret.
  return signatures.some(
    (sig) =>
      sig.length === expected.length &&
      crypto.timingSafeEqual(Buffer.from(sig), Buffer.from(expected)),
  );
}`;
