package gateway

import (
	"context"
	"fmt"
)

// Frames of an earlier session under a new token.
//
// The reference server (alphahunter's web/service.py) finds the socket and
// token of a platform callback by account (access_key@platform), and a
// logout — or the cleanup of a closed socket — does not stop the old
// session's platform callbacks at once. Once the account logs in again,
// the old session's late states (a 4 as its link closes, a 7 from a
// request it had in flight, a late 6) and notices (order, fill, position,
// asset) come tagged with the NEW token, on the new login's socket. The
// frames carry nothing that names their session: the driver tells them
// apart only by what the protocol does give, and where it gives nothing it
// asks the gateway instead of trusting the frame.
//
//   - Order: the reader takes a login's token from its answer itself
//     (acceptLoginLocked), so "before the answer" is the order of the
//     frames on the wire. Before its answer a login's only own state can
//     be 1 (REFERENCE.md: an unknown platform's state 1 comes first; the
//     new session's connect is asynchronous and begins after the answer is
//     sent): any other state for a token not known yet is an earlier
//     session's and is dropped, and so are notices.
//   - The connect sequence: a login's own first READY follows its own
//     CONNECT_SUCCESS (state 2), which follows the answer. A 6 before that
//     2 is an earlier session's and is ignored. A stale 6 that comes after
//     the new 2 and before the new 6 cannot be told from the new one: that
//     one gap is left (the requests sent early are answered or refused by
//     the gateway, and a place_order is never resent).
//   - After this login's READY a state 2, 3, 4, 5 or 7 may be this
//     session's or the old one's; nothing in it says which. On the
//     terminal's first login no earlier session of this driver exists and
//     the state is taken as it reads (a stale one there leaves the
//     terminal not ready until the next READY or Reconnect: it holds
//     operations, it never makes one go wrong). On a later login (after Reconnect or
//     a dropped socket) the state is verified: the driver asks the
//     gateway for the asset of this token. Answered with result true, the
//     session is up and answering for the venue, and the state is taken
//     for the old session's: the terminal stays ready (Reason says so).
//     Not answered, refused or an error, the state stands. Either way the
//     disruption counts as a gap in the notices (gaps): a settlement does
//     not conclude "no such order" from notices that did not come across
//     it.
//   - Notices carry times and ids, and these rules hold on every login
//     (the earlier session may be another process's, which this one
//     cannot know of): an order notice older than what is known of the
//     order (utime, executed quantity, a finished status) is not applied
//     nor published; a fill already seen (order_no + fill_no) is not
//     counted nor published again; a position notice older (utime) than
//     the position last read is dropped. An asset notice has neither: on
//     a later login it is not published as it came, the asset is asked
//     and the answer published (AssetNotice.Verified); on the first one it
//     is published as it came (only another process's session could be
//     behind it, and the asset notice feeds nothing the driver decides
//     by). And since a notice may tell of an
//     earlier session's order, finished before this login, a lost
//     place_order answer is never attributed to an order that only
//     notices told of (settle.go): that stays outcome_unknown with the
//     order as its candidate.

// acceptLoginLocked takes a login's answer with a token for s, on the
// reader (or, were the reader not to, on the login goroutine).
func (c *conn) acceptLoginLocked(sock *socket, s *session, f frame) {
	if s.closed || c.gen != sock.gen || s.token != "" {
		return
	}
	s.token = string(f.Token)
	c.byToken[s.token] = s
	s.logins++
	s.gaps++ // the notices between the last login and this one are lost
	s.code, s.msg, s.sawConnect, s.loginReady, s.discounted = 0, "", false, false, ""
	s.suspectGen++ // a verification of the earlier login ends
	if st, ok := c.orphans[s.token]; ok {
		delete(c.orphans, s.token)
		c.applyStateLocked(sock, s, st)
	}
}

// applyStateLocked records a state notice for s: for a READY it starts
// the refresh, for a state that may be an earlier session's its
// verification.
func (c *conn) applyStateLocked(sock *socket, s *session, f frame) {
	code, msg := f.code(), c.redact(string(f.Msg))
	switch {
	case code == stateConnectSuccess && !s.loginReady:
		s.sawConnect = true
	case code == stateReady && !s.sawConnect:
		s.log.Info("gateway READY before this login's CONNECT_SUCCESS: an earlier session's, ignored", "msg", msg)
		return
	case code != stateReady && s.loginReady:
		s.gaps++
		if s.code == stateReady && s.staleLocked() {
			s.suspectGen++
			gen, token := s.suspectGen, s.token
			s.log.Info("gateway state after READY on a later login: verifying it with the gateway before taking it (it may be the previous session's)",
				"code", code, "name", stateNames[code], "msg", msg)
			sock.spawn(func(ctx context.Context) { c.verify(ctx, sock, s, gen, token, code, msg) })
			return
		}
	}
	s.code, s.msg = code, msg
	if code == stateReady {
		s.loginReady, s.everReady, s.timedOut, s.discounted = true, true, false, ""
		s.suspectGen++
		s.stopLocked()
		sock.sawReady.Store(true)
	}
	s.log.Debug("gateway state notice", "code", code, "name", stateNames[code], "msg", msg)
	c.noteLocked(s)
	if code == stateReady {
		sock.spawn(s.term.refresh)
	}
}

// verify asks the gateway whether the login of token still answers, after
// a state that may be an earlier session's: the asset of the token, which
// every platform answers (spot position does not) and which reaches the
// venue. The state stands unless the answer says result true.
func (c *conn) verify(ctx context.Context, sock *socket, s *session, gen uint64, token string, code int, msg string) {
	f, err := c.call(ctx, request{Op: "asset", Token: token}, s.requestTimeout)
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.suspectGen != gen || s.token != token || s.closed || c.gen != sock.gen || ctx.Err() != nil {
		return // overtaken: another state, a new login, or the socket went
	}
	what := fmt.Sprintf("gateway state %d %s", code, stateNames[code])
	if msg != "" {
		what += ": " + msg
	}
	if err == nil && f.Op != "error" && f.ok() {
		s.discounted = what + " after READY was taken for the previous session's: the gateway answered asset for this login"
		s.log.Warn("gateway state after READY not taken: the login answers, so it is taken for the previous session's", "code", code, "name", stateNames[code])
		c.noteLocked(s)
		return
	}
	why := "no answer"
	switch {
	case err != nil:
		why = c.redact(err.Error())
	case f.Op == "error" || !f.ok():
		why = "refused: " + c.redact(string(f.ErrorMessage))
	}
	s.log.Info("gateway state after READY taken: the verification failed", "code", code, "why", why)
	s.code, s.msg = code, msg
	c.noteLocked(s)
}

// gapsOf is the disruptions of s's logins so far: a settlement compares
// them across its wait.
func (c *conn) gapsOf(s *session) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return s.gaps
}
