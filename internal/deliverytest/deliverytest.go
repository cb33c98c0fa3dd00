// Package deliverytest opens, for tests, the delivery backend a router runs with: a Bolt
// backend over a real bbolt store, in the test's own temporary directory. Only tests
// import it.
package deliverytest

import (
	"context"
	"testing"

	"github.com/rs/zerolog"

	"github.com/callback-router/callback-router/config"
	"github.com/callback-router/callback-router/delivery"
)

// Open opens a Bolt backend with the settings of d, a parsed config's delivery section (its
// dir aside: the store goes to a fresh temporary directory), and closes it when the test
// ends. The caller starts it; server.New does.
func Open(t testing.TB, d config.Delivery, log zerolog.Logger) *delivery.Bolt {
	t.Helper()
	q, err := delivery.OpenBolt(
		delivery.BoltOptions{Dir: t.TempDir(), MaxItems: d.MaxItems, MaxBytes: d.MaxBytes},
		delivery.Options{Workers: d.Workers, MaxAge: d.MaxAge, AttemptDeadline: d.AttemptDeadline,
			Backoff: delivery.Backoff{Initial: d.Backoff.Initial, Max: d.Backoff.Max}, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close(context.Background()) })
	return q
}
