package reload

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/callback-router/callback-router/config"
	"github.com/callback-router/callback-router/redact"
	"github.com/callback-router/callback-router/router"
)

// Target is what a reload swaps the table of: *server.Server.
type Target interface {
	Table() *router.Table
	Swap(t *router.Table)
}

// Triggers, as logged and passed to Reload.
const (
	TriggerFile   = "file"   // the watcher saw the file change
	TriggerSignal = "sighup" // the process got SIGHUP
)

// retireGrace is how long a replaced upstream's pool is left to the callbacks that were in
// flight on the old table (and to async deliveries) before its idle connections are closed
// a second time: longer than any callback deadline (under Tencent's 2 s window).
const retireGrace = 5 * time.Second

// Options configure a Reloader.
type Options struct {
	// File is the config file, as given on the command line.
	File string
	// Target receives the new tables.
	Target Target
	// Compile carries the hooks every table is compiled with (breaker changes, retry logs);
	// Previous is set by the Reloader.
	Compile router.Options
	// OnInstall, if set, is called with every table installed, after the swap.
	OnInstall func(t *router.Table)
	// OnResult, if set, is told of every reload attempted: installed, or refused.
	OnResult func(ok bool)
	// Debounce is how long the file must stay quiet before it is read (default 250ms).
	Debounce time.Duration
	Logger   zerolog.Logger
}

// Status describes the reloads so far, for the status page.
type Status struct {
	File       string    `json:"file"`
	LoadedAt   time.Time `json:"loaded_at"` // when the running table was installed
	Reloads    int       `json:"reloads"`   // installed since start
	Failures   int       `json:"failures"`  // refused since start
	LastError  string    `json:"last_error,omitempty"`
	LastFailed time.Time `json:"last_failed,omitzero"`
}

// Reloader loads the config file into new tables. Reloads run one at a time.
type Reloader struct {
	opts Options
	log  zerolog.Logger

	mu       sync.Mutex // serialises reloads and guards what follows
	lastSeen [sha256.Size]byte
	status   Status
}

// New returns a Reloader for the table already running on opts.Target, which was loaded
// from the file as it is now: the same content seen again is not reloaded.
func New(opts Options) *Reloader {
	if opts.Debounce <= 0 {
		opts.Debounce = defaultDebounce
	}
	r := &Reloader{opts: opts, log: opts.Logger.With().Str("component", "reload").Str("config", opts.File).Logger()}
	t := opts.Target.Table()
	r.status = Status{File: opts.File, LoadedAt: t.LoadedAt}
	if data, err := readConfigFile(opts.File); err == nil {
		r.lastSeen = fingerprint(data, t.CompiledFrom().SecretFiles())
	}
	return r
}

// readConfigFile reads the config file, unless it is not a regular file. A named pipe (some
// secret tools hand a config over as one) is read once, at start; opening it again waits for
// a writer that does not come, and would hang the start (New), a reload, and the shutdown
// that waits for the reloader. config.ReadRegularFile never waits on one, even one put in the
// file's place while it looks.
func readConfigFile(path string) ([]byte, error) {
	data, err := config.ReadRegularFile(path)
	if errors.Is(err, config.ErrNotRegularFile) {
		return nil, fmt.Errorf("config: %w: it was read once, at start; restart to apply a change", err)
	}
	return data, err
}

// fingerprint sums the config file's content and that of the secret files it names
// (tencent.apps' tokens_file and trtc_key_file), so that a Secret rotated under an unchanged
// config is a change too. They are read as the config reads them (config.ReadSecretFile):
// a named pipe put in a secret file's place would otherwise hang the reload here, before
// the config refuses it. A file that cannot be read counts as its error: when it comes
// back, that is a change.
func fingerprint(file []byte, secrets []string) [sha256.Size]byte {
	h := sha256.New()
	h.Write(file)
	for _, f := range secrets {
		h.Write([]byte{0})
		h.Write([]byte(f))
		h.Write([]byte{0})
		if data, err := config.ReadSecretFile(f); err == nil {
			h.Write(data)
		} else {
			h.Write([]byte(err.Error()))
		}
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// WatchedFiles returns the files whose change reloads the config: the config file and the
// secret files the running config names.
func (r *Reloader) WatchedFiles() []string {
	return append([]string{r.opts.File}, r.opts.Target.Table().CompiledFrom().SecretFiles()...)
}

// Status returns a copy of the reload status.
func (r *Reloader) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status
}

// ErrUnchanged is returned by Reload when the file holds what was last seen.
var ErrUnchanged = errors.New("config file unchanged")

// Reload loads the file and installs it. Unless force is set, content already seen (installed
// or refused) is skipped with ErrUnchanged: watchers report more events than changes. A
// refused file leaves the running table in place; the error joins every problem.
func (r *Reloader) Reload(trigger string, force bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	log := r.log.With().Str("trigger", trigger).Logger()

	// The files are read twice, here and in config.LoadFile. Should one change in between,
	// the watcher reports that change too, and its content differs from what was hashed here.
	old := r.opts.Target.Table()
	secrets := old.CompiledFrom().SecretFiles()
	data, err := readConfigFile(r.opts.File)
	if errors.Is(err, config.ErrNotRegularFile) {
		if !force {
			// Events in its directory (a log written next to it, say) tell nothing of it: it
			// cannot be read again to compare. A SIGHUP is refused out loud.
			log.Debug().Msg("config file is not a regular file; only a restart applies a change")
			return err
		}
		r.refuse(log, err)
		return err
	}
	if errors.Is(err, fs.ErrNotExist) && !force {
		// Between a delete and a re-create; the re-create is another event.
		log.Debug().Msg("config file is gone for now; waiting for it to come back")
		return err
	}
	var seen [sha256.Size]byte
	if err == nil {
		seen = fingerprint(data, secrets)
		if seen == r.lastSeen && !force {
			log.Debug().Msg("config and secret files unchanged; nothing to reload")
			return ErrUnchanged
		}
		r.lastSeen = seen
	}

	t, err := r.load(old)
	if err != nil {
		if trigger == TriggerFile && r.stillChanging(seen, secrets) {
			// Read mid-write despite the debounce (a slow writer): the write's next event
			// reloads the finished file, and this half of it is not worth an alarm.
			log.Debug().Err(err).Msg("config file still changing; waiting for the write to finish")
			return err
		}
		r.refuse(log, err)
		return err
	}
	if keys := restartKeys(old.CompiledFrom(), t.CompiledFrom()); len(keys) > 0 {
		log.Warn().Strs("keys", keys).Msg("these keys changed but only take effect after a restart; the running values stay")
	}
	r.opts.Target.Swap(t)
	// The secret files the new config names are what the next change is compared with.
	r.lastSeen = fingerprint(data, t.CompiledFrom().SecretFiles())
	if r.opts.OnInstall != nil {
		r.opts.OnInstall(t)
	}
	kept, rebuilt := r.retire(old, t)
	r.status.LoadedAt, r.status.Reloads = t.LoadedAt, r.status.Reloads+1
	if r.opts.OnResult != nil {
		r.opts.OnResult(true)
	}
	log.Info().Int("routes", len(t.Routes)).Int("upstreams", len(t.Upstreams)).
		Strs("upstreams_kept", kept).Strs("upstreams_rebuilt", rebuilt).Msg("config reloaded")
	return nil
}

// stillChanging reports whether the files, read again one debounce period later, no longer
// hold what was just refused.
func (r *Reloader) stillChanging(refused [sha256.Size]byte, secrets []string) bool {
	time.Sleep(r.opts.Debounce)
	now, err := readConfigFile(r.opts.File)
	return err == nil && fingerprint(now, secrets) != refused
}

// load reads, validates and compiles the file against the running table.
func (r *Reloader) load(old *router.Table) (*router.Table, error) {
	cfg, err := config.LoadFile(r.opts.File)
	if err != nil {
		return nil, err
	}
	opts := r.opts.Compile
	opts.Previous = old
	t, err := router.Compile(cfg, opts)
	if err != nil {
		return nil, fmt.Errorf("compiling the route table: %w", err)
	}
	return t, nil
}

// refuse logs every problem of a refused file and counts it. The problems are masked once
// more (config masks its own): the log line and the status page are where a refused
// credential would be read.
func (r *Reloader) refuse(log zerolog.Logger, err error) {
	problems := Problems(err)
	for i, p := range problems {
		problems[i] = redact.Text(p)
	}
	log.Error().Strs("problems", problems).Msg("config reload refused; the running config stays")
	r.status.Failures++
	r.status.LastError, r.status.LastFailed = redact.Text(err.Error()), time.Now()
	if r.opts.OnResult != nil {
		r.opts.OnResult(false)
	}
}

// retire closes the idle connections of the upstreams the new table does not carry over, now
// and again once the callbacks in flight on the old table are surely done. It returns the
// names of the upstreams kept and rebuilt or removed.
func (r *Reloader) retire(old, next *router.Table) (kept, retired []string) {
	gone := router.Retired(old, next)
	for _, up := range gone {
		up.CloseIdleConnections()
		retired = append(retired, up.Name())
	}
	if len(gone) > 0 {
		time.AfterFunc(retireGrace, func() {
			for _, up := range gone {
				up.CloseIdleConnections()
			}
		})
	}
	for name, up := range next.Upstreams {
		if old.Upstreams[name] == up {
			kept = append(kept, name)
		}
	}
	sort.Strings(kept)
	sort.Strings(retired)
	return kept, retired
}

// Problems splits an error joined by errors.Join (as config validation returns it) into one
// line per problem, each naming its key.
func Problems(err error) []string {
	var j interface{ Unwrap() []error }
	if errors.As(err, &j) {
		var out []string
		for _, e := range j.Unwrap() {
			out = append(out, Problems(e)...)
		}
		return out
	}
	return []string{err.Error()}
}
