// Package admin is the operators' listener (server.admin_listen, loopback by default):
// /healthz, /readyz, /metrics, /routes, and a live status page with the JSON it polls. It
// only reads what the other packages keep — the current route table, metrics, live stats,
// reload status — and never touches the callback path.
package admin
