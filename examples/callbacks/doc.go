// Package callbacks holds one sample Tencent callback packet per known command; the files are read by tests and by "callback-router send".
package callbacks
