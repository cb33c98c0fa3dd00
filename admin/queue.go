package admin

import (
	"net/http"

	"github.com/callback-router/callback-router/delivery"
)

// The /queue paths let `callback-router queue` manage the delivery store of a running
// router, which holds the store's file locked. Replay and drop change state, so they are
// POSTs, refused when a browser sends them cross-site; like the rest of the admin listener
// they need server.admin_token when one is set.

// queueList answers GET /queue/list?state=pending|dead&id=…&event=…&command=…&from=…&to=…&limit=….
func (s *Server) queueList(w http.ResponseWriter, r *http.Request) {
	f, ok := queueFilter(w, r)
	if !ok {
		return
	}
	recs, err := s.opts.Deliveries.List(r.URL.Query().Get("state"), f)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if recs == nil {
		recs = []*delivery.Record{}
	}
	writeJSON(w, recs)
}

// queueStats answers GET /queue/stats.
func (s *Server) queueStats(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, s.opts.Deliveries.Stats())
}

// queueChange answers POST /queue/replay and POST /queue/drop with {"count": n}. A request
// that selects nothing in particular is refused with 400 unless it says all=true: a state
// alone (drop?state=pending) would otherwise act on every record of that state.
func (s *Server) queueChange(replay bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f, ok := queueFilter(w, r)
		if !ok {
			return
		}
		if !f.Selects() && !f.All {
			writeText(w, http.StatusBadRequest, "give a filter ("+delivery.FilterNames+") or all=true to act on every record\n")
			return
		}
		var n int
		var err error
		if replay {
			n, err = s.opts.Deliveries.Replay(f)
		} else {
			n, err = s.opts.Deliveries.Drop(r.URL.Query().Get("state"), f)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		writeJSON(w, map[string]int{"count": n})
	}
}

func queueFilter(w http.ResponseWriter, r *http.Request) (delivery.Filter, bool) {
	f, err := delivery.ParseFilter(r.URL.Query())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return f, false
	}
	return f, true
}
