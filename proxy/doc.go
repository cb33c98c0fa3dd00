// Package proxy calls upstream services on behalf of a callback. One road, top to bottom:
//
//   - Caller.Forward builds one real request per call — POST http://<upstream>/?<Tencent's
//     query>, the router's headers, the callback's exact bytes, a context carrying the
//     deadline — and hands it to the Caller's go-retryablehttp client, compiled once per
//     policy (retries, retry_on, attempt_timeout): RetryMax is the route's retries, CheckRetry
//     judges each real answer or error, Backoff waits, RequestLogHook (stampAttempt) numbers
//     each attempt and says what is left of the deadline.
//   - Under it, net/http's Client calls the transport once per attempt: it picks the next
//     instance whose breaker is not open, runs the attempt through that instance's gobreaker
//     breaker, and converts the request to fasthttp's and the answer back (status, the
//     headers that matter, the body).
//   - Forward reads the final answer or error and reports a Result: the body Tencent gets
//     verbatim, or why there is none.
//
// It decides nothing about routes or fallbacks: package server turns a failed Result into
// the route's verdict.
package proxy
