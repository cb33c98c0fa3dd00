package shadow

// FNV-1a, 64 bits.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// Sampled reports whether the callback with this request id is mirrored at percent (0 to
// 100). The choice hangs on the id alone, so it is the same wherever it is asked, and evenly
// spread over ids that differ in a counter. It allocates nothing.
func Sampled(requestID string, percent float64) bool {
	switch {
	case percent >= 100:
		return true
	case percent <= 0:
		return false
	}
	h := uint64(fnvOffset)
	for i := range len(requestID) {
		h ^= uint64(requestID[i])
		h *= fnvPrime
	}
	return float64(h%10000) < percent*100
}
