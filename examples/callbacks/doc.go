// Package callbacks holds one sample Tencent callback packet per known command, and samples
// of TRTC's event callbacks named TRTC.<EventGroupId>.<EventType>; the files are read by tests
// and by "callback-router send".
package callbacks
