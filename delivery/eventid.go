package delivery

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"net/url"
	"slices"
	"strings"
)

// volatileParams are the query parameters that differ between Tencent's retries of one
// callback (it signs each send afresh), so they take no part in its event id.
var volatileParams = map[string]bool{"sign": true, "requesttime": true}

// EventID derives a callback's idempotency key from the request itself: the command, the
// query without Sign and RequestTime (parameter order and name case do not matter) and the
// exact body. The same callback gets the same id whenever and wherever it arrives — a retry
// by Tencent, a redelivery, a restart, another router instance — so an upstream can drop
// duplicates by it. 128 bits of SHA-256, hex.
func EventID(command, rawQuery string, body []byte) string {
	return idOf(eventHash(command, rawQuery, body))
}

// eventHash hashes the fields every event id is made of, separated by NULs.
func eventHash(command, rawQuery string, body []byte) hash.Hash {
	h := sha256.New()
	h.Write([]byte(command))
	h.Write([]byte{0})
	h.Write([]byte(canonicalQuery(rawQuery)))
	h.Write([]byte{0})
	h.Write(body)
	return h
}

// idOf is the first 128 bits of the hash, hex.
func idOf(h hash.Hash) string {
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:16])
}

// canonicalQuery sorts the query's parameters, lower-casing names and leaving out the
// volatile ones. A malformed pair is kept as it is rather than dropped.
func canonicalQuery(raw string) string {
	var pairs []string
	for _, p := range strings.Split(raw, "&") {
		if p == "" {
			continue
		}
		name, value, _ := strings.Cut(p, "=")
		if n, err := url.QueryUnescape(name); err == nil {
			name = n
		}
		name = strings.ToLower(name)
		if volatileParams[name] {
			continue
		}
		pairs = append(pairs, name+"="+value)
	}
	slices.Sort(pairs)
	return strings.Join(pairs, "&")
}

// JournalEventID is the idempotency key of a journaled fallback verdict. Tencent never
// retries a before-callback, while two gifts of the same sender, gift and count in the same
// second have the same body: so the request id, unique per callback received, is part of
// it, and two such gifts are two entries. It is hashed after the body rather than appended to
// the query, where the canonical form would take it for part of the last parameter — Sign or
// RequestTime in Tencent's query — and leave it out.
func JournalEventID(command, rawQuery string, body []byte, requestID string) string {
	h := eventHash(command, rawQuery, body)
	h.Write([]byte("\x00journal\x00"))
	h.Write([]byte(requestID))
	return idOf(h)
}
