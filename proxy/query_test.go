package proxy_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callback-router/callback-router/internal/upstreamtest"
	"github.com/callback-router/callback-router/proxy"
)

// TestUpstreamOwnQueryParamsAreNeverOverridden: a parameter the upstream URL sets itself
// (an api_key) reaches the upstream once, with the URL's value, whatever spelling of its name
// the incoming query uses; the other incoming parameters pass in their order and bytes, and
// each drop is reported once per call with the URL's own name and no value.
func TestUpstreamOwnQueryParamsAreNeverOverridden(t *testing.T) {
	const own = "api_key=S&mode=strict"
	tests := []struct {
		name      string
		own       string // the upstream URL's query
		incoming  string
		want      string // the raw query the upstream receives
		wantDrops []string
	}{
		{"no clash", own, "SdkAppid=1&Sign=abc", own + "&SdkAppid=1&Sign=abc", nil},
		{"same name", own, "SdkAppid=1&api_key=ATTACKER", own + "&SdkAppid=1", []string{"api_key"}},
		{"name in another case", own, "API_KEY=ATTACKER&SdkAppid=1", own + "&SdkAppid=1", []string{"api_key"}},
		{"name percent-encoded", own, "api%5Fkey=ATTACKER&SdkAppid=1", own + "&SdkAppid=1", []string{"api_key"}},
		{"name after a semicolon", own, "SdkAppid=1;api_key=ATTACKER&x=1", own + "&x=1", []string{"api_key"}},
		{"name without a value", own, "api_key&x=1", own + "&x=1", []string{"api_key"}},
		{"two names", own, "mode=lax&CallbackCommand=C&api_key=ATTACKER", own + "&CallbackCommand=C", []string{"mode", "api_key"}},
		{"every name", own, "api_key=ATTACKER", own, []string{"api_key"}},
		// PHP reads all of these as api_key ($_GET['api_key'], or an array of that name).
		{"name with a dot for the underscore", own, "SdkAppid=1&api.key=ATTACKER", own + "&SdkAppid=1", []string{"api_key"}},
		{"name with a space for the underscore", own, "api+key=ATTACKER&SdkAppid=1", own + "&SdkAppid=1", []string{"api_key"}},
		{"name with an encoded space", own, "api%20key=ATTACKER&SdkAppid=1", own + "&SdkAppid=1", []string{"api_key"}},
		{"name with an unclosed bracket", own, "api[key=ATTACKER&SdkAppid=1", own + "&SdkAppid=1", []string{"api_key"}},
		{"name after a leading space", own, "+api_key=ATTACKER&SdkAppid=1", own + "&SdkAppid=1", []string{"api_key"}},
		{"name as an array", own, "api_key[]=ATTACKER&SdkAppid=1", own + "&SdkAppid=1", []string{"api_key"}},
		{"name as an array with a key", own, "API_KEY%5Bx%5D=ATTACKER&SdkAppid=1", own + "&SdkAppid=1", []string{"api_key"}},
		{"other names with dots and brackets kept", own, "a.b=1&c[]=2&SdkAppid=1", own + "&a.b=1&c[]=2&SdkAppid=1", nil},
		{"own name with a dot, incoming with the underscore", "api.key=S", "api_key=ATTACKER&SdkAppid=1", "api.key=S&SdkAppid=1", []string{"api.key"}},
		// PHP reads a name as a C string, up to its first NUL: api_key%00… sets api_key.
		{"name cut short by a NUL", own, "api_key%00=ATTACKER&SdkAppid=1", own + "&SdkAppid=1", []string{"api_key"}},
		{"name cut short by a NUL before more", own, "SdkAppid=1&api_key%00x.y=ATTACKER", own + "&SdkAppid=1", []string{"api_key"}},
		// PHP decodes the escapes of a name that has a bad one too, and keeps the bad one.
		{"name cut short by a NUL, a bad escape after", own, "api_key%00%ZZ=ATTACKER&SdkAppid=1", own + "&SdkAppid=1", []string{"api_key"}},
		{"name as an encoded array, a bad escape after", own, "api_key%5Bx%5D%=ATTACKER&SdkAppid=1", own + "&SdkAppid=1", []string{"api_key"}},
		{"name with a bad escape kept", own, "api_key%ZZ=1&SdkAppid=1", own + "&api_key%ZZ=1&SdkAppid=1", nil},
		// Rack 2 (Rails) reads all of these as api_key; qs (Express) reads [api_key] so.
		{"name in brackets", own, "%5Bapi_key%5D=ATTACKER&SdkAppid=1", own + "&SdkAppid=1", []string{"api_key"}},
		{"name with a closing bracket after it", own, "api_key]=ATTACKER&SdkAppid=1", own + "&SdkAppid=1", []string{"api_key"}},
		// An own name that PHP or Rack read as an array is replaced by the plain name, or
		// by a deeper array: $_GET['auth'] becomes the incoming value.
		{"own array, incoming plain", "auth[token]=S", "auth=ATTACKER&SdkAppid=1", "auth[token]=S&SdkAppid=1", []string{"auth[token]"}},
		{"own array, incoming deeper", "auth[token]=S", "auth[token][x]=ATTACKER&SdkAppid=1", "auth[token]=S&SdkAppid=1", []string{"auth[token]"}},
		{"own array, Tencent's names kept", "auth[token]=S", "SdkAppid=1&CallbackCommand=C&contenttype=json&ClientIP=1.2.3.4&OptPlatform=iOS&Sign=s&RequestTime=1",
			"auth[token]=S&SdkAppid=1&CallbackCommand=C&contenttype=json&ClientIP=1.2.3.4&OptPlatform=iOS&Sign=s&RequestTime=1", nil},
		{"no incoming query", own, "", own, nil},
		{"upstream without a query", "", "SdkAppid=1&api_key=X", "SdkAppid=1&api_key=X", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The first attempt fails, so the call is retried: a drop is still reported once.
			up := upstreamtest.Start(t, upstreamtest.FailFirst(1, 503, upstreamtest.OK()))
			url := up.URL + "/moderation"
			if tt.own != "" {
				url += "?" + tt.own
			}
			var mu sync.Mutex
			var drops []string
			p, err := proxy.New(proxy.Spec{Name: "moderation", URLs: []string{url}, MaxConns: 4, MaxResponseBytes: 1 << 20,
				Breaker: proxy.BreakerSettings{ConsecutiveFailures: 100, OpenFor: time.Second, HalfOpenRequests: 1},
				OnQueryParamDropped: func(upstream, param, requestID string) {
					mu.Lock()
					defer mu.Unlock()
					if upstream != "moderation" || requestID != "req-1" {
						t.Errorf("drop reported for upstream %q, request %q; want moderation, req-1", upstream, requestID)
					}
					drops = append(drops, param)
				}})
			if err != nil {
				t.Fatal(err)
			}
			defer p.CloseIdleConnections()
			res := p.Caller(proxy.Policy{Retries: 1, RetryOn: []int{503}}).Forward(context.Background(), time.Now().Add(2*time.Second),
				&proxy.Call{Body: []byte(`{}`), RawQuery: tt.incoming, RequestID: "req-1"})
			if !res.OK() {
				t.Fatalf("Forward: reason %q, err %v", res.Reason, res.Err)
			}
			reqs := up.Requests()
			if len(reqs) != 2 {
				t.Fatalf("upstream got %d requests, want 2", len(reqs))
			}
			for i, r := range reqs {
				if r.RawQuery != tt.want {
					t.Errorf("attempt %d: upstream got query %q, want %q", i+1, r.RawQuery, tt.want)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if !slices.Equal(drops, tt.wantDrops) {
				t.Errorf("drops reported %q, want %q", drops, tt.wantDrops)
			}
			for _, d := range drops {
				if strings.Contains(d, "ATTACKER") {
					t.Errorf("drop report %q carries the incoming value", d)
				}
			}
		})
	}
}
