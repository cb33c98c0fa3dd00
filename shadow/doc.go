// Package shadow decides what a mirrored callback shows: it compares the answer Tencent got
// (an upstream's, or the router's fallback) with a candidate upstream's answer to the same
// callback, and picks which callbacks are mirrored. It calls nothing and keeps nothing:
// package server runs the mirror, and metrics and stats record the results.
package shadow

// Header marks every call to a candidate, mirrored callbacks and delivery copies alike: the
// candidate must answer it and act on nothing (charge no coins, store no message), since
// Tencent never sees its answer.
const Header = "X-Callback-Shadow"
