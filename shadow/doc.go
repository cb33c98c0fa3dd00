// Package shadow decides what a mirrored callback shows: it compares the answer Tencent got
// (an upstream's, or the router's fallback) with a candidate upstream's answer to the same
// callback, and picks which callbacks are mirrored. It calls nothing and keeps nothing:
// package server runs the mirror, and metrics and stats record the results.
package shadow
