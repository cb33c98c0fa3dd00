package server

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"sync/atomic"
)

// requestIDs makes request ids unique across restarts and instances without a random read
// per request: a random process prefix and a counter.
type requestIDs struct {
	prefix string
	n      atomic.Uint64
}

func newRequestIDs() *requestIDs {
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return &requestIDs{prefix: hex.EncodeToString(b[:]) + "-"}
}

func (g *requestIDs) next() string {
	buf := make([]byte, 0, len(g.prefix)+13)
	buf = append(buf, g.prefix...)
	return string(strconv.AppendUint(buf, g.n.Add(1), 36))
}
