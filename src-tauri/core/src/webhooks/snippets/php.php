<?php
// Pitchbar webhook receiver: checks X-Pitchbar-Signature, then handles the event.
// PHP 7.3+, no extensions needed. Run: php -S 0.0.0.0:${PORT:-3000} pitchbar-webhook.php

// The endpoint's signing secret. The whole string, "whsec_" included, is the HMAC key.
const PITCHBAR_SECRET = '__PITCHBAR_SECRET__';
// Older (or newer) signatures are refused, so a captured request cannot be replayed later.
const TOLERANCE_SECONDS = 300;

// Returns null when the request is authentic, else why not.
function pitchbar_verify(?string $header, string $rawBody): ?string
{
    if ($header === null || $header === '') {
        return 'missing X-Pitchbar-Signature header';
    }
    $t = null;
    $v1 = [];
    foreach (explode(',', $header) as $part) {
        $pair = explode('=', $part, 2);
        if (count($pair) !== 2) {
            continue;
        }
        [$key, $value] = array_map('trim', $pair);
        if ($key === 't') {
            $t = $value;
        } elseif ($key === 'v1') {
            $v1[] = $value;
        }
    }
    if ($t === null || !preg_match('/\A\d+\z/', $t) || !$v1) {
        return 'malformed X-Pitchbar-Signature header';
    }
    $expected = hash_hmac('sha256', $t . '.' . $rawBody, PITCHBAR_SECRET);
    // While a secret is being rotated there is one v1 per valid secret: any match will do.
    $matches = false;
    foreach ($v1 as $sig) {
        $matches = hash_equals($expected, $sig) || $matches;
    }
    if (!$matches) {
        return 'signature mismatch';
    }
    if (abs(time() - (int) $t) > TOLERANCE_SECONDS) {
        return 'timestamp outside the 5-minute tolerance';
    }
    return null;
}

// The exact bytes that were signed: verify before parsing, never a re-serialized copy.
$rawBody = file_get_contents('php://input');
$error = pitchbar_verify($_SERVER['HTTP_X_PITCHBAR_SIGNATURE'] ?? null, $rawBody);
header('Content-Type: text/plain');
if ($error !== null) {
    http_response_code(400);
    echo $error, "\n";
    return;
}
$event = json_decode($rawBody, true);
// X-Pitchbar-Delivery is the same on every retry: use it to skip duplicates.
error_log($event['event'] . ' ' . ($_SERVER['HTTP_X_PITCHBAR_DELIVERY'] ?? ''));
// Handle the event here; answer within 5 seconds and do slow work afterwards.
http_response_code(200);
echo "ok\n";
