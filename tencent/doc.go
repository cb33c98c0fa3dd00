// Package tencent knows Tencent Cloud Live and Chat's callback wire protocol: the query
// parameters Tencent appends, how it signs a callback, the answer envelope it expects and the
// catalogue of commands with the deny codes each accepts; and TRTC's event callbacks (room,
// media, cloud recording): how their body names the event and how their Sign is made. It
// does no I/O; routing, forwarding and serving are left to other packages.
package tencent
