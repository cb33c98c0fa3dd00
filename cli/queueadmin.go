package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/callback-router/callback-router/delivery"
)

// adminQueue is a delivery.Manager that asks a running router, through the /queue paths of
// its admin listener.
type adminQueue struct {
	base   string
	client *http.Client
	// token is server.admin_token, sent as a bearer token when set.
	token string
}

var _ delivery.Manager = (*adminQueue)(nil)

func (a *adminQueue) Stats() delivery.Stats {
	st, err := a.statsOrError()
	if err != nil {
		st.Backend = "unreachable: " + err.Error()
	}
	return st
}

// statsOrError is Stats for `queue stats`, which must fail, not print zeros, when the
// running router cannot be asked.
func (a *adminQueue) statsOrError() (delivery.Stats, error) {
	var st delivery.Stats
	err := a.call(http.MethodGet, "/queue/stats", "", delivery.Filter{}, &st)
	return st, err
}

func (a *adminQueue) List(state string, f delivery.Filter) ([]*delivery.Record, error) {
	var recs []*delivery.Record
	return recs, a.call(http.MethodGet, "/queue/list", state, f, &recs)
}

func (a *adminQueue) Replay(f delivery.Filter) (int, error) {
	var res struct{ Count int }
	err := a.call(http.MethodPost, "/queue/replay", "", f, &res)
	return res.Count, err
}

func (a *adminQueue) Drop(state string, f delivery.Filter) (int, error) {
	var res struct{ Count int }
	err := a.call(http.MethodPost, "/queue/drop", state, f, &res)
	return res.Count, err
}

func (a *adminQueue) call(method, path, state string, f delivery.Filter, out any) error {
	v := f.Values()
	if state != "" {
		v.Set("state", state)
	}
	req, err := http.NewRequest(method, a.base+path+"?"+v.Encode(), nil)
	if err != nil {
		return err
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return fmt.Errorf("asking the running router at %s: %w", a.base, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %d: %s", a.base+path, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return json.Unmarshal(body, out)
}
