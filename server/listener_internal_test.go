package server

import (
	"errors"
	"net"
	"syscall"
	"testing"

	"github.com/rs/zerolog"
)

// scriptedListener returns its errors in turn, then its connection.
type scriptedListener struct {
	net.Listener
	errs []error
	conn net.Conn
}

func (s *scriptedListener) Accept() (net.Conn, error) {
	if len(s.errs) > 0 {
		err := s.errs[0]
		s.errs = s.errs[1:]
		return nil, err
	}
	return s.conn, nil
}

// TestAcceptSurvivesTransientErrors: running out of file descriptors must not end Accept
// (fasthttp's Serve would stop, and the router with it); a closed listener must.
func TestAcceptSurvivesTransientErrors(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	emfile := &net.OpError{Op: "accept", Err: syscall.EMFILE}
	ln := newLimitListener(&scriptedListener{errs: []error{emfile, syscall.ENFILE, syscall.ECONNABORTED}, conn: server}, 10, 0, zerolog.Nop(), nil)
	c, err := ln.Accept()
	if err != nil || c == nil {
		t.Fatalf("Accept after transient errors = %v, %v; want the connection", c, err)
	}
	c.Close()
	if got := ln.Open(); got != 0 {
		t.Errorf("Open() = %d after the connection closed, want 0", got)
	}

	closed := newLimitListener(&scriptedListener{errs: []error{net.ErrClosed}}, 10, 0, zerolog.Nop(), nil)
	if _, err := closed.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept on a closed listener = %v, want net.ErrClosed", err)
	}
}
