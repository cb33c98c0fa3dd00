package e2e

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callback-router/callback-router/internal/testutil"
	"github.com/callback-router/callback-router/internal/upstreamtest"
	"github.com/callback-router/callback-router/tencent"
)

// TestBinaryServesTRTCEvents runs the binary with two apps, each with its TRTC key: TRTC's
// room and media events, signed as TRTC signs them, are routed by TRTC.<group>.<type> to a
// real loopback upstream, which gets the body byte for byte with SdkAppId, Sign and the
// router's headers; a wrong Sign gets 401 and reaches nobody; an async recording route
// answers {"code":0} at once and delivers later; `send -trtc` signs with the app's key from
// the config.
func TestBinaryServesTRTCEvents(t *testing.T) {
	const prodKey, stagingKey = "ProdTrtcKey2024", "StagingTrtcKey7"
	rooms := upstreamtest.Start(t, upstreamtest.Answer(http.StatusOK, `{"code":0}`))
	media := upstreamtest.Start(t, upstreamtest.Answer(http.StatusOK, `{"code":0,"handled":"media"}`))
	hold := make(chan struct{})
	recordings := upstreamtest.Start(t, func(w http.ResponseWriter, r *http.Request, n int64) {
		<-hold // the answer to TRTC must not wait for the delivery
		upstreamtest.Answer(http.StatusOK, `{"code":0}`)(w, r, n)
	})
	t.Cleanup(func() {
		select {
		case <-hold:
		default:
			close(hold)
		}
	})
	keyFile := testutil.WriteFile(t, "staging-trtc-key", stagingKey+"\n")
	cfg := newConfig(t).Set("server.admin_listen", "").Set("server.trtc_path", "/trtc").
		SetYAML("tencent", `{apps: [{sdk_app_id: 1400000001, name: prod, tokens: [prod-chat-token], trtc_key: `+prodKey+`},
			{sdk_app_id: 1400000002, name: staging, trtc_key_file: `+strconv.Quote(keyFile)+`}]}`).
		Upstream("rooms", rooms.URL).Upstream("media", media.URL).Upstream("recordings", recordings.URL).
		Route(`{commands: ["TRTC.1.*"], upstream: rooms, deadline: 4s}`).
		Route(`{commands: [TRTC.2.201, TRTC.2.202], upstream: media}`).
		Route(`{commands: ["TRTC.3.*"], upstream: recordings, async: true}`).
		Route(catchAll).
		Set("delivery.dir", filepath.Join(t.TempDir(), "data"))
	r := start(t, cfg)

	sample := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(testutil.Root(), "examples", "callbacks", name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// post sends a TRTC event as TRTC does: the app and the Sign in headers, no query.
	post := func(t *testing.T, path, app, sign string, body []byte) (int, string, time.Duration) {
		header := http.Header{}
		header.Set("SdkAppId", app)
		if sign != "" {
			header.Set("Sign", sign)
		}
		a := r.post(t, path, string(body), header)
		return a.status, a.body, a.elapsed
	}

	tests := []struct {
		name, sample, path, app, key string
		up                           *upstreamtest.Upstream
		wantAnswer                   string
	}{
		{name: "enter room, Tencent's tab-indented sample", sample: "TRTC.1.103", path: "/", app: "1400000001", key: prodKey, up: rooms, wantAnswer: `{"code":0}`},
		{name: "exit room on trtc_path", sample: "TRTC.1.104", path: "/trtc", app: "1400000001", key: prodKey, up: rooms, wantAnswer: `{"code":0}`},
		{name: "staging's start video, key from its file", sample: "TRTC.2.201", path: "/trtc", app: "1400000002", key: stagingKey, up: media, wantAnswer: `{"code":0,"handled":"media"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := sample(tt.sample)
			sign := tencent.SignTRTC(tt.key, body)
			before := tt.up.Hits()
			status, answer, _ := post(t, tt.path, tt.app, sign, body)
			if status != 200 || answer != tt.wantAnswer {
				t.Fatalf("answer %d %s, want 200 %s", status, answer, tt.wantAnswer)
			}
			if tt.up.Hits() != before+1 {
				t.Fatalf("the upstream got %d requests, want 1", tt.up.Hits()-before)
			}
			got := tt.up.Requests()[before]
			if !bytes.Equal(got.Body, body) {
				t.Errorf("upstream got %q, want %q byte for byte", got.Body, body)
			}
			for name, want := range map[string]string{"SdkAppId": tt.app, "Sign": sign, "X-Callback-Command": tt.sample} {
				if got := got.Header.Get(name); got != want {
					t.Errorf("upstream got %s %q, want %q", name, got, want)
				}
			}
			// An existing TRTC handler verifies the event as it would unproxied.
			if err := tencent.VerifyTRTCSign(tt.key, got.Body, got.Header.Get("Sign")); err != nil {
				t.Errorf("the upstream cannot verify the event: %v", err)
			}
		})
	}

	t.Run("a wrong Sign gets 401 and reaches nobody", func(t *testing.T) {
		before := rooms.Hits()
		body := sample("TRTC.1.103")
		for _, sign := range []string{tencent.SignTRTC(stagingKey, body), tencent.SignTRTC(prodKey, append(body, ' ')), ""} {
			if status, answer, _ := post(t, "/", "1400000001", sign, body); status != 401 || !strings.Contains(answer, "bad_signature") {
				t.Errorf("Sign %q: answer %d %s, want 401 bad_signature", sign, status, answer)
			}
		}
		if rooms.Hits() != before {
			t.Errorf("rooms got %d refused events", rooms.Hits()-before)
		}
	})

	t.Run("an async recording route answers {\"code\":0} at once", func(t *testing.T) {
		body := sample("TRTC.3.311")
		sign := tencent.SignTRTC(prodKey, body)
		status, answer, took := post(t, "/trtc", "1400000001", sign, body)
		if status != 200 || answer != `{"code":0}` {
			t.Fatalf("answer %d %s, want 200 {\"code\":0}", status, answer)
		}
		if took > 2*time.Second {
			t.Errorf("answered after %s, while the upstream holds the delivery", took)
		}
		close(hold)
		testutil.Eventually(t, "the recording event's delivery", func() bool { return recordings.Hits() >= 1 })
		got := recordings.Requests()[0]
		if !bytes.Equal(got.Body, body) || got.Header.Get("Sign") != sign || got.Header.Get("X-Callback-Command") != "TRTC.3.311" ||
			got.Header.Get("X-Callback-App") != "prod" {
			t.Errorf("recordings got %q with Sign %q, command %q, app %q", got.Body, got.Header.Get("Sign"),
				got.Header.Get("X-Callback-Command"), got.Header.Get("X-Callback-App"))
		}
	})

	t.Run("send -trtc", func(t *testing.T) {
		before := rooms.Hits()
		out, code := run(t, "send", "-trtc", "-config", r.config, "-sdkappid", "1400000002", "examples/callbacks/TRTC.1.101.json")
		if code != 0 {
			t.Fatalf("send -trtc: exit %d\n%s", code, out)
		}
		if !strings.Contains(out, "TRTC.1.101") || !strings.Contains(out, `{"code":0}`) {
			t.Errorf("send printed:\n%s", out)
		}
		if rooms.Hits() != before+1 {
			t.Fatalf("rooms got %d events, want 1; send printed:\n%s", rooms.Hits()-before, out)
		}
		got := rooms.Requests()[before]
		if err := tencent.VerifyTRTCSign(stagingKey, got.Body, got.Header.Get("Sign")); err != nil || got.Header.Get("SdkAppId") != "1400000002" {
			t.Errorf("send -trtc delivered SdkAppId %q, Sign check %v; want staging's, signed with its key", got.Header.Get("SdkAppId"), err)
		}
		if strings.Contains(out, got.Header.Get("Sign")) {
			t.Errorf("send printed the Sign:\n%s", out)
		}
	})

	if r.Output.Contains(prodKey) || r.Output.Contains(stagingKey) {
		t.Errorf("a TRTC key reached the log")
	}
}
