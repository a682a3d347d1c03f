// Pitchbar webhook receiver: checks X-Pitchbar-Signature, then handles the event.
// Go 1.18+, standard library only. Run: go run pitchbar_webhook.go  (port: $PORT, default 3000)
package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// The endpoint's signing secret. The whole string, "whsec_" included, is the HMAC key.
const secret = "__PITCHBAR_SECRET__"

// Older (or newer) signatures are refused, so a captured request cannot be replayed later.
const toleranceSeconds = 300

// verify returns "" when the request is authentic, else why not.
func verify(header string, rawBody []byte) string {
	if header == "" {
		return "missing X-Pitchbar-Signature header"
	}
	var t string
	var v1 []string
	for _, part := range strings.Split(header, ",") {
		key, value, found := strings.Cut(part, "=")
		if !found {
			continue
		}
		switch strings.TrimSpace(key) {
		case "t":
			t = strings.TrimSpace(value)
		case "v1":
			v1 = append(v1, strings.TrimSpace(value))
		}
	}
	ts, err := strconv.ParseInt(t, 10, 64)
	if t == "" || strings.Trim(t, "0123456789") != "" || err != nil || len(v1) == 0 {
		return "malformed X-Pitchbar-Signature header"
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(t + "."))
	mac.Write(rawBody)
	expected := mac.Sum(nil)
	// While a secret is being rotated there is one v1 per valid secret: any match will do.
	matches := false
	for _, sig := range v1 {
		given, err := hex.DecodeString(sig)
		if err == nil && hmac.Equal(given, expected) {
			matches = true
		}
	}
	if !matches {
		return "signature mismatch"
	}
	if age := time.Now().Unix() - ts; age > toleranceSeconds || age < -toleranceSeconds {
		return "timestamp outside the 5-minute tolerance"
	}
	return ""
}

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		// The exact bytes that were signed: verify before parsing, never a re-serialized copy.
		rawBody, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "cannot read the body", http.StatusBadRequest)
			return
		}
		if reason := verify(r.Header.Get("X-Pitchbar-Signature"), rawBody); reason != "" {
			http.Error(w, reason, http.StatusBadRequest)
			return
		}
		// X-Pitchbar-Delivery is the same on every retry: use it to skip duplicates.
		log.Printf("%s %s", r.Header.Get("X-Pitchbar-Event"), r.Header.Get("X-Pitchbar-Delivery"))
		// Handle the event here (encoding/json on rawBody); answer within 5 seconds.
		fmt.Fprintln(w, "ok")
	})
	port := os.Getenv("PORT")
	if port == "" {
		port = "3000"
	}
	log.Printf("listening on port %s", port)
	log.Fatal(http.ListenAndServe(":"+port, nil))
}
