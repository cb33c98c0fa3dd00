package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
)

// maxBodyBytes bounds a callback body, like the router's default server.max_body_bytes.
const maxBodyBytes = 1 << 20

// Answer codes used by this example, as Tencent documents them for before-callbacks.
const (
	codeAllow = 0
	// codeReject denies a before-callback. It also answers a body this example cannot read:
	// Tencent treats any non-zero code as a refusal, and refusing what we do not understand is
	// the safe side for gifts and messages.
	codeReject = 1
	// codeDrop makes Tencent discard a message without telling the sender.
	codeDrop = 2
	// codeInsufficientBalance lies in [102100, 102200], the gift codes Tencent passes on to the
	// sender's client, so the app can show "not enough coins".
	codeInsufficientBalance = 102101
)

// envelope is Tencent's answer object. ActionStatus stays "OK" on a refusal too, as in Tencent's
// samples: the decision is ErrorCode.
type envelope struct {
	ActionStatus string `json:"ActionStatus"`
	ErrorCode    int    `json:"ErrorCode"`
	ErrorInfo    string `json:"ErrorInfo"`
}

// writeEnvelope answers HTTP 200 with {"ActionStatus":"OK","ErrorCode":code,"ErrorInfo":info}.
func writeEnvelope(w http.ResponseWriter, code int, info string) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(envelope{ActionStatus: "OK", ErrorCode: code, ErrorInfo: info}) // cannot fail
	writeJSON(w, buf.Bytes())
}

// writeJSON answers HTTP 200 with body, which must already be JSON.
func writeJSON(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// readBody reads at most maxBodyBytes of the request body.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	return io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
}

// queryParam returns the first query parameter whose name equals name case-insensitively:
// Tencent spells SdkAppid both ways.
func queryParam(r *http.Request, name string) string {
	for k, v := range r.URL.Query() {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// commandOf returns the callback command: from the query the router passes on (CallbackCommand,
// or its alias WebhookCommand), else from the body. It returns "" when neither has one.
func commandOf(r *http.Request, body []byte) string {
	for _, name := range []string{"CallbackCommand", "WebhookCommand"} {
		if cmd := queryParam(r, name); cmd != "" {
			return cmd
		}
	}
	var packet struct {
		CallbackCommand string `json:"CallbackCommand"`
	}
	_ = json.Unmarshal(body, &packet) // a body without a readable command yields ""
	return packet.CallbackCommand
}

// expectCommand reports whether cmd is one of want. An unknown ("") command passes: the body is
// checked next anyway.
func expectCommand(cmd string, want ...string) bool {
	return cmd == "" || slices.Contains(want, cmd)
}
