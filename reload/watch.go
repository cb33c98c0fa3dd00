package reload

import (
	"context"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/rs/zerolog"
)

// defaultDebounce is how long the file must stay quiet before it is read. An in-place write
// shows up as a truncate and one or more writes; reading at the first event would see an
// empty or half-written file.
const defaultDebounce = 250 * time.Millisecond

// watcher reports, on changes, that the config file or a secret file it names may have
// changed. It watches the directories of the files and of what they link to, not the files
// themselves: a watch on a file dies with the file's inode, which an atomic rename, a
// delete-and-recreate or a Kubernetes ConfigMap or Secret symlink swap all replace.
type watcher struct {
	debounce time.Duration
	fs       *fsnotify.Watcher
	log      zerolog.Logger
	changes  chan struct{}

	mu    sync.Mutex
	files []string // the config file first, then the secret files
	dirs  map[string]bool
}

func newWatcher(file string, debounce time.Duration, log zerolog.Logger) (*watcher, error) {
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	w := &watcher{files: []string{file}, debounce: debounce, fs: fsw, dirs: map[string]bool{}, log: log, changes: make(chan struct{}, 1)}
	if err := w.watchDirs(); err != nil {
		fsw.Close()
		return nil, err
	}
	return w, nil
}

// watch sets the files watched: the config file first, then the secret files the running
// config names. Directories no file needs any more stay watched: their events only cause
// a reload that finds nothing changed.
func (w *watcher) watch(files []string) {
	w.mu.Lock()
	w.files = files
	w.mu.Unlock()
	_ = w.watchDirs()
}

// watchDirs adds the directory of each file and, when a file is a symlink, its target's
// directory. It runs again after every change, as a swap may point a link elsewhere. Only
// the config file's own directory must be watchable; a secret file's that is not is
// warned about (SIGHUP still reloads it).
func (w *watcher) watchDirs() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, file := range w.files {
		dirs := []string{filepath.Dir(file)}
		if target, err := filepath.EvalSymlinks(file); err == nil {
			dirs = append(dirs, filepath.Dir(target))
		}
		for j, d := range dirs {
			if abs, err := filepath.Abs(d); err == nil {
				d = abs
			}
			if w.dirs[d] {
				continue
			}
			if err := w.fs.Add(d); err != nil {
				switch {
				case i == 0 && j == 0:
					return err // the config file's own directory must be watchable
				case j == 0:
					w.log.Warn().Err(err).Str("file", file).Msg("cannot watch a secret file's directory; SIGHUP still reloads it")
				}
				continue // a link target that vanished: the next swap is seen in the first
			}
			w.dirs[d] = true
		}
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
