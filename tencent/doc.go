// Package tencent knows Tencent Cloud Live and Chat's callback wire protocol: the query
// parameters Tencent appends, how it signs a callback, the answer envelope it expects and the
// catalogue of commands with the deny codes each accepts. It does no I/O; routing, forwarding
// and serving are left to other packages.
package tencent
