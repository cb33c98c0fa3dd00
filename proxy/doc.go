// Package proxy calls upstream services on behalf of a callback: it picks an instance whose
// circuit breaker is not open, POSTs the callback's exact bytes with Tencent's query string,
// retries through go-retryablehttp only while the deadline leaves room, and reports either an
// answer Tencent accepts or why there is none. It decides nothing about routes or fallbacks:
// package server turns a failed Result into the route's verdict.
package proxy
