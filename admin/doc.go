// Package admin is the operators' listener (server.admin_listen, loopback by default):
// /healthz, /readyz, /metrics, /routes, a live status page with the JSON it polls
// (/status.json), and /queue/stats, /queue/list, /queue/replay and /queue/drop over the
// delivery backend's records. Every path but the health checks and the page's shell needs
// server.admin_token when one is set; without one, a request naming a host that is not an
// address, localhost or one of server.admin_hosts is refused (DNS rebinding). Queue changes
// a browser sends from another site are refused either way. Apart from replaying and dropping
// stored callbacks it only reads what the other packages keep — the current route table,
// metrics, live stats, reload status — and never touches the callback path.
package admin
