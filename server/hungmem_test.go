package server_test

import (
	"fmt"
	"net"
	"runtime"
	"testing"
	"time"
)

// BenchmarkHungCallbackMemory reports what a callback waiting on a hung upstream holds in
// the router's process: goroutine stack and heap, per callback (bench scenario 3 measures
// the whole process's RSS; this shows which part is stack).
func BenchmarkHungCallbackMemory(b *testing.B) {
	const n = 300
	hung, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer hung.Close()
	var held []net.Conn
	go func() {
		for {
			c, err := hung.Accept()
			if err != nil {
				return
			}
			held = append(held, c) // never read, never answered
		}
	}()
	r := startRouter(b, configFor(giftCommand, "http://"+hung.Addr().String()+"/hang", "    deadline: 1500ms\n"))
	addr := r.URL[len("http://"):]
	addr = addr[:len(addr)-1]
	req := []byte("POST /?SdkAppid=1400000001&CallbackCommand=" + giftCommand + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
		fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(giftBody), giftBody))
	for range b.N {
		conns := make([]net.Conn, n)
		for i := range conns {
			if conns[i], err = net.Dial("tcp", addr); err != nil {
				b.Fatal(err)
			}
		}
		time.Sleep(100 * time.Millisecond)
		var before, during runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for _, c := range conns {
			c.Write(req)
		}
		time.Sleep(500 * time.Millisecond)
		runtime.ReadMemStats(&during)
		b.ReportMetric(float64(during.StackInuse-before.StackInuse)/n, "stack-B/hung")
		b.ReportMetric(float64(int64(during.HeapInuse)-int64(before.HeapInuse))/n, "heap-B/hung")
		for _, c := range conns {
			c.Close()
		}
		time.Sleep(1200 * time.Millisecond)
	}
}
