package metrics

import (
	"strconv"

	"github.com/callback-router/callback-router/proxy"
	"github.com/callback-router/callback-router/server"
	"github.com/callback-router/callback-router/tencent"
)

// Label values for what falls outside a bounded set.
const (
	commandOther = "other" // a command not in tencent.Catalogue
	commandNone  = "none"  // no command (the request was refused before one was read)
	routeNone    = "none"  // refused before routing
	statusNone   = "none"  // no HTTP answer came back from the upstream
)

// commands are the command label values: the catalogue, then "other" and "none".
var commands, commandIndex = func() ([]string, map[string]int) {
	names := make([]string, 0, len(tencent.Catalogue)+2)
	index := make(map[string]int, len(tencent.Catalogue))
	for _, c := range tencent.Catalogue {
		index[c.Name] = len(names)
		names = append(names, c.Name)
	}
	return append(names, commandOther, commandNone), index
}()

// commandID bounds a command to a label: its catalogue entry, else "other" (or "none").
// The exact spelling is looked up: Tencent sends catalogue names as written.
func commandID(command string) int {
	if i, ok := commandIndex[command]; ok {
		return i
	}
	if command == "" {
		return len(commands) - 1
	}
	return len(commands) - 2
}

// decisions are the decision label values, in the order decisionID returns.
var decisions = []string{server.DecisionUpstream, server.DecisionAllow, server.DecisionDeny,
	server.DecisionQueued, server.DecisionRejected, "other"}

func decisionID(d string) int {
	switch d {
	case server.DecisionUpstream:
		return 0
	case server.DecisionAllow:
		return 1
	case server.DecisionDeny:
		return 2
	case server.DecisionQueued:
		return 3
	case server.DecisionRejected:
		return 4
	}
	return 5
}

// reasons are the fallback reason label values, in the order reasonID returns.
var reasons = []string{string(proxy.ReasonTimeout), string(proxy.ReasonBreakerOpen),
	string(proxy.ReasonUpstreamError), string(server.ReasonOverloaded), string(server.ReasonNoRoute),
	string(proxy.ReasonClientGone), "other"}

func reasonID(r proxy.Reason) int {
	switch r {
	case proxy.ReasonTimeout:
		return 0
	case proxy.ReasonBreakerOpen:
		return 1
	case proxy.ReasonUpstreamError:
		return 2
	case server.ReasonOverloaded:
		return 3
	case server.ReasonNoRoute:
		return 4
	case proxy.ReasonClientGone:
		return 5
	}
	return 6
}

// statusTexts spells the HTTP statuses once, so labelling one costs no strconv.
var statusTexts = func() []string {
	out := make([]string, 600)
	out[0] = statusNone
	for i := 100; i < len(out); i++ {
		out[i] = strconv.Itoa(i)
	}
	return out
}()

// statusLabel bounds an upstream status to a label: the code, or "none" when there was no
// answer (or a code no HTTP server sends).
func statusLabel(code int) string {
	if code < 100 || code >= len(statusTexts) {
		return statusNone
	}
	return statusTexts[code]
}

// breakerValue is the breaker_state gauge's value for a state name.
func breakerValue(state string) float64 {
	switch state {
	case "half-open":
		return 1
	case "open":
		return 2
	}
	return 0
}
