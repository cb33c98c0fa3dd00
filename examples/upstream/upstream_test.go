package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

var discard = slog.New(slog.DiscardHandler)

// callback is one request as the router sends it: Tencent's body and query, plus the router's
// X-Request-Id.
type callback struct {
	command   string
	requestID string
	body      string
	headers   map[string]string // further headers, such as a journal entry's
}

// answer is what the test reads back from an upstream.
type answer struct {
	status int
	code   int64
	info   string
	raw    map[string]json.RawMessage
}

// post sends c to srv+path the way the router does and decodes the answer.
func post(t *testing.T, srv *httptest.Server, path string, c callback) answer {
	t.Helper()
	a, err := send(srv, path, c)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// send is post for goroutines other than the test's own, where t.Fatal must not be called.
func send(srv *httptest.Server, path string, c callback) (answer, error) {
	q := url.Values{"SdkAppid": {"1400000001"}, "contenttype": {"json"}}
	if c.command != "" {
		q.Set("CallbackCommand", c.command)
	}
	req, err := http.NewRequest(http.MethodPost, srv.URL+path+"?"+q.Encode(), strings.NewReader(c.body))
	if err != nil {
		return answer{}, err
	}
	if c.requestID != "" {
		req.Header.Set("X-Request-Id", c.requestID)
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("X-Callback-Attempt", "1")
	req.Header.Set("X-Callback-Deadline-Ms", "1500")
	resp, err := srv.Client().Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	a := answer{status: resp.StatusCode}
	if err := json.Unmarshal(data, &a.raw); err != nil {
		return a, fmt.Errorf("answer %q is not a JSON object: %w", data, err)
	}
	// ErrorCode must be an integer, as the router requires.
	if err := json.Unmarshal(a.raw["ErrorCode"], &a.code); err != nil {
		return a, fmt.Errorf("answer %s: ErrorCode is not an integer: %w", data, err)
	}
	_ = json.Unmarshal(a.raw["ErrorInfo"], &a.info)
	return a, nil
}

func giftBody(sender string, coins, count int) string {
	return `{"CallbackCommand":"Live.CallbackBeforeSendGift","Operator_Account":` + sender +
		`,"RoomId":"room_1","GiftWater":{"From_Account":` + sender + `,"To_Account":["anchor"],` +
		`"Time":1717236000,"GiftId":"rocket","Count":` + itoa(count) + `,"Coins":` + itoa(coins) + `}}`
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestGifts(t *testing.T) {
	type step struct {
		requestID string
		body      string
		wantCode  int64
		wantInfo  string
	}
	tests := []struct {
		name        string
		steps       []step
		account     string
		wantBalance int64
	}{
		{
			name:        "allowed and deducted",
			steps:       []step{{"r1", giftBody(`"mia"`, 1000, 2), 0, ""}},
			account:     "mia",
			wantBalance: 3000,
		},
		{
			name: "denied with 102101 when out of coins, balance kept",
			steps: []step{
				{"r1", giftBody(`"mia"`, 1000, 4), 0, ""},
				{"r2", giftBody(`"mia"`, 1000, 2), 102101, "insufficient balance"},
				{"r3", giftBody(`"mia"`, 1000, 1), 0, ""},
			},
			account:     "mia",
			wantBalance: 0,
		},
		{
			name: "same request id twice deducts once",
			steps: []step{
				{"retried", giftBody(`"mia"`, 1500, 2), 0, ""},
				{"retried", giftBody(`"mia"`, 1500, 2), 0, ""},
			},
			account:     "mia",
			wantBalance: 2000,
		},
		{
			name: "repeated id keeps its first verdict after the balance ran out",
			steps: []step{
				{"first", giftBody(`"mia"`, 3000, 1), 0, ""},
				{"second", giftBody(`"mia"`, 2000, 1), 0, ""},
				{"first", giftBody(`"mia"`, 3000, 1), 0, ""},
			},
			account:     "mia",
			wantBalance: 0,
		},
		{
			name: "numeric account above 2^53 is the same account as its string",
			steps: []step{
				{"n1", giftBody(`144115233775727695`, 1000, 1), 0, ""},
				{"n2", giftBody(`"144115233775727695"`, 1000, 1), 0, ""},
			},
			account:     "144115233775727695",
			wantBalance: 3000,
		},
		{
			name: "no request id: every request is charged",
			steps: []step{
				{"", giftBody(`"mia"`, 1000, 1), 0, ""},
				{"", giftBody(`"mia"`, 1000, 1), 0, ""},
			},
			account:     "mia",
			wantBalance: 3000,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newGiftChecker(5000, dedupWindow, discard)
			srv := httptest.NewServer(g)
			defer srv.Close()
			for i, s := range tc.steps {
				a := post(t, srv, "/", callback{command: giftCommand, requestID: s.requestID, body: s.body})
				if a.status != http.StatusOK || a.code != s.wantCode || a.info != s.wantInfo {
					t.Errorf("step %d: got HTTP %d ErrorCode %d %q, want 200 %d %q",
						i, a.status, a.code, a.info, s.wantCode, s.wantInfo)
				}
			}
			if got, want := g.balance(tc.account), tc.wantBalance; got != want {
				t.Errorf("balance of %s = %d, want %d", tc.account, got, want)
			}
		})
	}
}

// TestGiftsConcurrentRetries sends one request id from many goroutines at once, as overlapping
// router attempts would: the sender must be charged once.
func TestGiftsConcurrentRetries(t *testing.T) {
	g := newGiftChecker(5000, dedupWindow, discard)
	srv := httptest.NewServer(g)
	defer srv.Close()
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			a, err := send(srv, "/", callback{command: giftCommand, requestID: "same", body: giftBody(`"mia"`, 1000, 1)})
			if err != nil || a.code != 0 {
				t.Errorf("got ErrorCode %d, err %v; want 0", a.code, err)
			}
		})
	}
	wg.Wait()
	if got, want := g.balance("mia"), int64(4000); got != want {
		t.Errorf("balance = %d, want %d", got, want)
	}
}

// TestGiftsShadowChargesNothing: a mirrored callback (X-Callback-Shadow: 1) gets the verdict
// the checker would give, and the balance does not move.
func TestGiftsShadowChargesNothing(t *testing.T) {
	g := newGiftChecker(1500, dedupWindow, discard)
	srv := httptest.NewServer(g)
	defer srv.Close()
	shadow := map[string]string{"X-Callback-Shadow": "1"}
	for i, want := range []int64{0, 0, codeInsufficientBalance} {
		coins := []int{1000, 1000, 2000}[i]
		if a := post(t, srv, "/", callback{command: giftCommand, requestID: fmt.Sprint("s", i), body: giftBody(`"mia"`, coins, 1), headers: shadow}); a.code != want {
			t.Errorf("shadow gift of %d coins: got ErrorCode %d, want %d", coins, a.code, want)
		}
	}
	if got, want := g.balance("mia"), int64(1500); got != want {
		t.Errorf("balance after shadow calls = %d, want %d (nothing charged)", got, want)
	}
	if a := post(t, srv, "/", callback{command: giftCommand, requestID: "real", body: giftBody(`"mia"`, 1000, 1)}); a.code != 0 {
		t.Fatalf("the real gift: got ErrorCode %d, want 0", a.code)
	}
	if got, want := g.balance("mia"), int64(500); got != want {
		t.Errorf("balance after the real gift = %d, want %d", got, want)
	}
}

// TestGiftsReconcileJournal: journal entries from the router bring the balance in line with
// what Tencent did while the checker could not answer, once per event id.
func TestGiftsReconcileJournal(t *testing.T) {
	journal := func(event, verdict string) map[string]string {
		return map[string]string{"X-Callback-Fallback-Verdict": verdict, "X-Callback-Fallback-Reason": "timeout", "X-Callback-Event-Id": event}
	}
	tests := []struct {
		name        string
		checked     bool // the checker answered (allowed and charged) but too late
		verdict     string
		events      []string
		wantBalance int64
	}{
		{name: "let through, never checked: charged once", verdict: "allow", events: []string{"e1", "e1"}, wantBalance: 4000},
		{name: "let through, already charged: nothing", checked: true, verdict: "allow", events: []string{"e1"}, wantBalance: 4000},
		{name: "blocked, already charged: refunded once", checked: true, verdict: "deny", events: []string{"e1", "e1"}, wantBalance: 5000},
		{name: "blocked, never checked: nothing", verdict: "deny", events: []string{"e1"}, wantBalance: 5000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGiftChecker(5000, dedupWindow, discard)
			srv := httptest.NewServer(g)
			defer srv.Close()
			body := giftBody(`"mia"`, 1000, 1)
			if tt.checked {
				post(t, srv, "/", callback{command: giftCommand, requestID: "r1", body: body})
			}
			for _, ev := range tt.events {
				if a := post(t, srv, "/", callback{command: giftCommand, requestID: "r1", body: body, headers: journal(ev, tt.verdict)}); a.code != 0 {
					t.Errorf("journal entry answered %d, want 0 (accepted)", a.code)
				}
			}
			if got := g.balance("mia"); got != tt.wantBalance {
				t.Errorf("balance = %d, want %d", got, tt.wantBalance)
			}
		})
	}
}

func TestGiftsForgetOldestRequestID(t *testing.T) {
	g := newGiftChecker(5000, 2, discard)
	for _, id := range []string{"a", "b", "c"} { // "c" pushes "a" out of a window of 2
		g.decide(id, "mia", 1000)
	}
	if _, _, repeated := g.decide("a", "mia", 1000); repeated {
		t.Errorf("request id a still remembered beyond the window")
	}
	if _, _, repeated := g.decide("c", "mia", 1000); !repeated {
		t.Errorf("request id c forgotten inside the window")
	}
	if got, want := len(g.verdicts), 2; got != want {
		t.Errorf("remembered %d ids, want %d", got, want)
	}
}

// groupMsg is a Group.CallbackBeforeSendMsg body whose first element is a text; the other two
// are indented and carry an unknown field and a big integer, to show they come back untouched.
func groupMsg(text string) string {
	return `{"CallbackCommand":"Group.CallbackBeforeSendMsg","GroupId":"live_1","Type":"Live",
"From_Account":"mia","MsgBody":[
  {"MsgType":"TIMTextElem","MsgContent":{"Text":` + quote(text) + `},"Extra":1},
  {"MsgType": "TIMCustomElem", "MsgContent": {"Data": "{\"level\":12}", "Desc": "CustomElement.MemberLevel"}},
  {"MsgType": "TIMFaceElem",   "MsgContent": {"Index": 144115233775727695, "Data": "<3"}, "Future": [1, 2]}
],"EventTime":"1717236215094"}`
}

const (
	customElem = `{"MsgType": "TIMCustomElem", "MsgContent": {"Data": "{\"level\":12}", "Desc": "CustomElement.MemberLevel"}}`
	faceElem   = `{"MsgType": "TIMFaceElem",   "MsgContent": {"Index": 144115233775727695, "Data": "<3"}, "Future": [1, 2]}`
)

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }

func TestModeration(t *testing.T) {
	tests := []struct {
		name     string
		command  string
		body     string
		wantCode int64
		wantText string // text of MsgBody[0] in the answer; "" = the answer has no MsgBody
	}{
		{
			name:     "group message: blocked words masked, case-insensitive",
			command:  "Group.CallbackBeforeSendMsg",
			body:     groupMsg("so much SPAM, what a badword <3"),
			wantCode: 0,
			wantText: "so much ****, what a ******* <3",
		},
		{
			name:     "masking counts characters, not bytes",
			command:  "Group.CallbackBeforeSendMsg",
			body:     groupMsg("spam垃圾spam"),
			wantCode: 0,
			wantText: "****垃圾****",
		},
		{
			name:    "c2c message rewritten",
			command: "C2C.CallbackBeforeSendMsg",
			body: `{"CallbackCommand":"C2C.CallbackBeforeSendMsg","From_Account":"jared","To_Account":"John",` +
				`"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"no spam please"}}]}`,
			wantCode: 0,
			wantText: "no **** please",
		},
		{
			name:     "clean message: plain allow without MsgBody",
			command:  "Group.CallbackBeforeSendMsg",
			body:     groupMsg("Moon River please!"),
			wantCode: 0,
		},
		{
			name:     "drop word gives ErrorCode 2",
			command:  "Group.CallbackBeforeSendMsg",
			body:     groupMsg("free coins, no Scam, DM me"),
			wantCode: 2,
		},
		{
			name:     "command taken from the body when the query has none",
			command:  "",
			body:     groupMsg("spam"),
			wantCode: 0,
			wantText: "****",
		},
		{
			name:     "misrouted command refused",
			command:  "Live.CallbackBeforeSendGift",
			body:     giftBody(`"mia"`, 1, 1),
			wantCode: 1,
		},
		{
			name:     "text element without a string Text is malformed",
			command:  "C2C.CallbackBeforeSendMsg",
			body:     `{"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":42}}]}`,
			wantCode: 1,
		},
	}
	srv := httptest.NewServer(newModerator([]string{"badword", "spam"}, []string{"scam"}, discard))
	defer srv.Close()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := post(t, srv, "/", callback{command: tc.command, requestID: "m1", body: tc.body})
			if a.status != http.StatusOK || a.code != tc.wantCode {
				t.Fatalf("got HTTP %d ErrorCode %d (%q), want 200 %d", a.status, a.code, a.info, tc.wantCode)
			}
			rawBody, hasBody := a.raw["MsgBody"]
			if tc.wantText == "" {
				if hasBody {
					t.Errorf("answer has MsgBody %s, want none", rawBody)
				}
				return
			}
			var elems []json.RawMessage
			if err := json.Unmarshal(rawBody, &elems); err != nil || len(elems) == 0 {
				t.Fatalf("answer MsgBody %s: %v", rawBody, err)
			}
			var text struct {
				MsgType    string
				MsgContent struct{ Text string }
				Extra      int
			}
			if err := json.Unmarshal(elems[0], &text); err != nil {
				t.Fatal(err)
			}
			if got, want := text.MsgContent.Text, tc.wantText; got != want {
				t.Errorf("Text = %q, want %q", got, want)
			}
			if text.MsgType != "TIMTextElem" {
				t.Errorf("MsgType = %q, want TIMTextElem", text.MsgType)
			}
			if strings.Contains(tc.body, `"Extra":1`) && text.Extra != 1 {
				t.Errorf("unknown field Extra of the text element lost: %s", elems[0])
			}
			if strings.Contains(tc.body, customElem) {
				if got := len(elems); got != 3 {
					t.Fatalf("MsgBody has %d elements, want 3", got)
				}
				if got, want := string(elems[1]), customElem; got != want {
					t.Errorf("custom element changed:\n got %s\nwant %s", got, want)
				}
				if got, want := string(elems[2]), faceElem; got != want {
					t.Errorf("face element changed:\n got %s\nwant %s", got, want)
				}
			}
		})
	}
}

func TestMalformedBodies(t *testing.T) {
	tests := []struct {
		name    string
		handler http.Handler
		command string
		body    string
	}{
		{"gift: not JSON", newGiftChecker(5000, dedupWindow, discard), giftCommand, `{"GiftWater":`},
		{"gift: empty body", newGiftChecker(5000, dedupWindow, discard), giftCommand, ``},
		{"gift: no GiftWater", newGiftChecker(5000, dedupWindow, discard), giftCommand, `{"RoomId":"r"}`},
		{"gift: no sender", newGiftChecker(5000, dedupWindow, discard), giftCommand,
			`{"GiftWater":{"Count":1,"Coins":1}}`},
		{"gift: zero count", newGiftChecker(5000, dedupWindow, discard), giftCommand, giftBody(`"mia"`, 100, 0)},
		{"gift: cost overflows", newGiftChecker(5000, dedupWindow, discard), giftCommand,
			`{"GiftWater":{"From_Account":"mia","Count":4,"Coins":4611686018427387904}}`},
		{"gift: misrouted command", newGiftChecker(5000, dedupWindow, discard), "Group.CallbackBeforeSendMsg",
			groupMsg("hi")},
		{"moderation: not JSON", newModerator([]string{"spam"}, nil, discard), "C2C.CallbackBeforeSendMsg", `[1,`},
		{"moderation: MsgBody not an array", newModerator([]string{"spam"}, nil, discard), "C2C.CallbackBeforeSendMsg",
			`{"MsgBody":"spam"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			a := post(t, srv, "/", callback{command: tc.command, requestID: "x1", body: tc.body})
			if a.status != http.StatusOK || a.code == 0 || a.info == "" {
				t.Errorf("got HTTP %d ErrorCode %d %q, want 200, a non-zero code and a reason", a.status, a.code, a.info)
			}
		})
	}
}

func TestRoutes(t *testing.T) {
	srv := httptest.NewServer(newHandler(options{startCoins: 5000, block: []string{"spam"}, drop: []string{"scam"}}, discard))
	defer srv.Close()
	tests := []struct {
		path     string
		c        callback
		wantCode int64
	}{
		{"/gifts", callback{command: giftCommand, requestID: "g1", body: giftBody(`"mia"`, 6000, 1)}, 102101},
		{"/moderation", callback{command: "C2C.CallbackBeforeSendMsg", requestID: "m1", body: `{"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"scam"}}]}`}, 2},
		{"/events", callback{command: "Live.CallbackAfterEndBattle", requestID: "e1", body: `{"CallbackCommand":"Live.CallbackAfterEndBattle","FromRoomInfo":{"Owner_Account":144115245353757792}}`}, 0},
		{"/events", callback{requestID: "e2", body: `not json`}, 0},
	}
	for _, tc := range tests {
		a := post(t, srv, tc.path, tc.c)
		if a.status != http.StatusOK || a.code != tc.wantCode {
			t.Errorf("%s %s: got HTTP %d ErrorCode %d, want 200 %d", tc.path, tc.c.command, a.status, a.code, tc.wantCode)
		}
	}

	resp, err := srv.Client().Get(srv.URL + "/gifts")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got, want := resp.StatusCode, http.StatusMethodNotAllowed; got != want {
		t.Errorf("GET /gifts: status %d, want %d", got, want)
	}
}

func TestRewrittenAnswerIsValidJSON(t *testing.T) {
	got := rewrittenAnswer([]json.RawMessage{json.RawMessage(customElem), json.RawMessage(faceElem)})
	if !json.Valid(got) {
		t.Fatalf("invalid JSON: %s", got)
	}
	if !bytes.Contains(got, []byte(faceElem)) {
		t.Errorf("element bytes not kept: %s", got)
	}
}

func TestParseFlags(t *testing.T) {
	opts, err := parseFlags([]string{"-listen", "127.0.0.1:0", "-block", " a, ,b ", "-drop", ""})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(opts.block, "|"), "a|b"; got != want {
		t.Errorf("block = %q, want %q", got, want)
	}
	if opts.drop != nil {
		t.Errorf("drop = %q, want none", opts.drop)
	}
	if got, want := opts.startCoins, int64(5000); got != want {
		t.Errorf("start coins = %d, want %d", got, want)
	}
	if _, err := parseFlags([]string{"-start-coins", "-1"}); err == nil {
		t.Errorf("negative -start-coins accepted")
	}
}
