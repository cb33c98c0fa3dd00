package reload

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// Start reloads on SIGHUP and on changes of the file, or of the secret files it names (a
// Kubernetes Secret updated in place), until ctx ends. It returns once the
// signal handler and the file watch are in place, so neither a SIGHUP (whose default action
// kills the process) nor a change made right after Start is missed; the returned channel is
// closed when the reloader has stopped. When the file cannot be watched, it says so and still
// reloads on SIGHUP.
func (r *Reloader) Start(ctx context.Context) <-chan struct{} {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)

	var changes <-chan struct{}
	w, err := newWatcher(r.opts.File, r.opts.Debounce, r.log)
	if err != nil {
		r.log.Warn().Err(err).Msg("cannot watch the config file; only SIGHUP reloads it")
	} else {
		w.watch(r.WatchedFiles())
		go w.run(ctx)
		changes = w.changes
	}
	// rewatch follows the secret files of the config now running.
	rewatch := func() {
		if w != nil {
			w.watch(r.WatchedFiles())
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				_ = r.Reload(TriggerSignal, true)
				rewatch()
			case <-changes:
				_ = r.Reload(TriggerFile, false)
				rewatch()
			}
		}
	}()
	return done
}
