// Package kubernetes holds the Kubernetes manifests (sidecar.yaml, edge.yaml, ha.yaml) and
// their test: every document decodes strictly into the Kubernetes API types (unknown fields
// refused), the pods are hardened and probed as the README says, and each embedded router
// config passes `callback-router validate` with its Secret's files in place; ha.yaml's NATS
// config passes nats-server's own parser and its nodes stop in lame duck mode. The test lives in
// the deploy module so that the router's module does not carry the Kubernetes API.
package kubernetes
