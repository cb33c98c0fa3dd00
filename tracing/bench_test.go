package tracing_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/callback-router/callback-router/internal/otlptest"
	"github.com/callback-router/callback-router/tracing"
)

// benchCallback is what one forwarded callback costs the tracer: its span, one attempt's
// span and the traceparent written into the attempt's headers.
func benchCallback(b *testing.B, ratio float64) {
	rcv := otlptest.Start(b)
	tr, err := tracing.New(tracing.Settings{Endpoint: rcv.URL, SampleRatio: ratio, ServiceName: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		tr.Shutdown(ctx)
	})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		h := http.Header{}
		for pb.Next() {
			ctx, span := tr.StartCallback(context.Background(), tracing.Incoming{}, time.Now())
			actx, at := tr.StartAttempt(ctx, "gifts", 1)
			tracing.Inject(actx, h.Set)
			tracing.EndAttempt(at, tracing.Attempt{Instance: "http://127.0.0.1:9001/gifts", Status: 200, Breaker: "closed"})
			tracing.EndCallback(span, tracing.Callback{RequestID: "abc-1", Command: "Live.CallbackBeforeSendGift",
				App: "live", Route: "gifts", Decision: "upstream", Status: 200})
		}
	})
}

func BenchmarkCallbackUnsampled(b *testing.B)    { benchCallback(b, 0) }
func BenchmarkCallbackDefaultRatio(b *testing.B) { benchCallback(b, 0.05) }
func BenchmarkCallbackSampled(b *testing.B)      { benchCallback(b, 1) }
