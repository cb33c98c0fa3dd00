package reload

import (
	"context"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/rs/zerolog"
)

// defaultDebounce is how long the file must stay quiet before it is read. An in-place write
// shows up as a truncate and one or more writes; reading at the first event would see an
// empty or half-written file.
const defaultDebounce = 250 * time.Millisecond

// watcher reports, on changes, that the config file may have changed. It watches the
// directories of the file and of what the file links to, not the file itself: a watch on a
// file dies with the file's inode, which an atomic rename, a delete-and-recreate or a
// ConfigMap symlink swap all replace.
type watcher struct {
	file     string
	debounce time.Duration
	fs       *fsnotify.Watcher
	dirs     map[string]bool
	log      zerolog.Logger
	changes  chan struct{}
}

func newWatcher(file string, debounce time.Duration, log zerolog.Logger) (*watcher, error) {
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	w := &watcher{file: file, debounce: debounce, fs: fsw, dirs: map[string]bool{}, log: log, changes: make(chan struct{}, 1)}
	if err := w.watchDirs(); err != nil {
		fsw.Close()
		return nil, err
	}
	return w, nil
}

// watchDirs adds the file's directory and, when the file is a symlink, its target's
// directory. It runs again after every change, as a swap may point the link elsewhere.
func (w *watcher) watchDirs() error {
	dirs := []string{filepath.Dir(w.file)}
	if target, err := filepath.EvalSymlinks(w.file); err == nil {
		dirs = append(dirs, filepath.Dir(target))
	}
	for i, d := range dirs {
		if abs, err := filepath.Abs(d); err == nil {
			d = abs
		}
		if w.dirs[d] {
			continue
		}
		if err := w.fs.Add(d); err != nil {
			if i == 0 {
				return err // the file's own directory must be watchable
			}
			continue // a link target that vanished: the next swap is seen in the first
		}
		w.dirs[d] = true
	}
	return nil
}

// run turns bursts of events into one report on changes, debounced, until ctx ends.
func (w *watcher) run(ctx context.Context) {
	defer w.fs.Close()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case ev, ok := <-w.fs.Events:
			if !ok {
				return
			}
			if ev.Op == fsnotify.Chmod {
				continue
			}
			timer.Reset(w.debounce)
		case err, ok := <-w.fs.Errors:
			if !ok {
				return
			}
			w.log.Warn().Err(err).Msg("config watcher error; SIGHUP still reloads")
		case <-timer.C:
			_ = w.watchDirs()
			select {
			case w.changes <- struct{}{}:
			default: // a report is already pending
			}
		}
	}
}
