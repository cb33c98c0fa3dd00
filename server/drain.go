package server

import (
	"context"
	"time"
)

// drainPoll is how often a drain looks whether every client has gone.
const drainPoll = 10 * time.Millisecond

// drain ends serving without cutting a callback. It
//  1. stops accepting (the port is closed, so a load balancer's next connection goes to
//     another router, and a client's next dial is refused before it sends anything);
//  2. marks every answer from now on with Connection: close, so a client that sends another
//     callback on a keep-alive connection gets it answered and then sees the connection end
//     cleanly, instead of having it closed under a request it is sending. The port closes
//     first, so the new connection such a client opens is refused rather than caught in the
//     listen queue as it closes;
//  3. waits up to server.drain_grace for the clients to use, and so give back, the
//     connections they hold idle — closing an idle connection races a client that is
//     about to send on it, and a callback sent into that race is lost;
//  4. shuts the engine down: callbacks in flight finish, connections still idle are closed.
//
// It returns when the engine has stopped or ctx ends. A connection the kernel completed into
// the listen queue an instant before the port closed is reset by the kernel, unanswered; no
// server can avoid that, which is why /readyz turns 503 first: a load balancer stops
// sending before the port closes.
func (s *Server) drain(ctx context.Context, grace time.Duration) error {
	s.ln.Close()
	s.handler.draining.Store(true)
	if open := s.lim.Open(); open > 0 {
		s.log.Info().Int("connections", open).Dur("drain_grace", grace).Msg("draining keep-alive connections")
	}
	until := time.Now().Add(grace)
	for s.lim.Open() > 0 && time.Now().Before(until) && ctx.Err() == nil {
		time.Sleep(drainPoll)
	}
	return s.engine.shutdown(ctx)
}
