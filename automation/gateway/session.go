package gateway

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// The state codes of seeds/004's state notice.
const (
	stateParamMiss      = 1
	stateConnectSuccess = 2
	stateConnectFailed  = 3
	stateDisconnect     = 4
	stateReconnecting   = 5
	stateReady          = 6
	stateGeneralError   = 7
)

var stateNames = map[int]string{
	stateParamMiss: "PARAM_MISS", stateConnectSuccess: "CONNECT_SUCCESS", stateConnectFailed: "CONNECT_FAILED",
	stateDisconnect: "DISCONNECT", stateReconnecting: "RECONNECTING", stateReady: "READY", stateGeneralError: "GENERAL_ERROR",
}

// session is one platform login on a shared socket: what the gateway told
// of it. Every field below the line is guarded by its conn's mu.
type session struct {
	name           string
	platform       string
	symbols        []string
	access, secret string
	loginTimeout   time.Duration
	requestTimeout time.Duration
	log            *slog.Logger
	term           *Terminal

	token     string // the current login's token; "" when not logged in
	loginSock uint64 // the socket generation the last login went out on
	loggingIn bool
	refused   string // why the gateway refused (or never answered) the login
	code      int    // the last state code for token; 0 for none yet
	msg       string // and its message
	everReady bool
	timedOut  bool // login_timeout passed without READY
	timer     *time.Timer
	timerGen  uint64
	closed    bool
	last      automation.State

	// What tells this login's own states from an earlier session's
	// (stale.go). logins counts the logins the gateway accepted for this
	// terminal; from the second on, the reference server may deliver the
	// previous session's late states and notices under the new token.
	logins     int
	sawConnect bool   // this login's state 2 came, after its answer
	loginReady bool   // this login's own first READY came
	gaps       uint64 // disruptions since READY: notices may have been lost
	suspectGen uint64 // counts states after READY held for verification
	discounted string // the last such state the gateway's answer discounted
}

// staleLocked says whether this login may receive an earlier session's
// frames under its token: it is not the terminal's first.
func (s *session) staleLocked() bool { return s.logins > 1 }

// stateLocked derives the terminal's state.
func (s *session) stateLocked() automation.State {
	switch {
	case s.closed:
		return automation.StateDisconnected
	case s.refused != "":
		return automation.StateError
	case s.token != "" && s.code == stateReady && s.loginReady:
		return automation.StateReady
	case s.token != "" && (s.code == stateDisconnect || s.code == stateReconnecting):
		return automation.StateReconnecting
	case s.token != "" && (s.code == stateParamMiss || s.code == stateConnectFailed || s.code == stateGeneralError):
		return automation.StateError
	case s.timedOut:
		return automation.StateError
	case s.everReady:
		return automation.StateReconnecting
	}
	return automation.StateConnecting
}

// reasonLocked says why the terminal is in its state, for logs and
// errors. It holds nothing secret: gateway messages were redacted on
// arrival.
func (s *session) reasonLocked(c *conn) string {
	var why string
	switch {
	case s.closed:
		return "closed"
	case s.refused != "":
		return s.refused
	case s.token != "" && s.code != 0:
		why = fmt.Sprintf("gateway state %d %s", s.code, stateNames[s.code])
		if s.msg != "" {
			why += ": " + s.msg
		}
		if s.code == stateReady && s.discounted != "" {
			why += "; " + s.discounted
		}
	case c.ws == nil && c.dialErr != "":
		why = "no connection to the gateway: " + c.dialErr
	case c.ws == nil:
		why = "connecting to the gateway"
	case s.token == "":
		why = "logging in"
	default:
		why = "logged in, waiting for READY (state 6)"
	}
	if s.timedOut && s.stateLocked() == automation.StateError {
		why = fmt.Sprintf("no READY within login_timeout %s; %s", s.loginTimeout, why)
	}
	return why
}

// armLocked starts login_timeout: if READY has not come when it passes,
// the terminal shows as error (and goes on waiting).
func (s *session) armLocked(c *conn) {
	s.stopLocked()
	s.timedOut = false
	s.timerGen++
	gen := s.timerGen
	s.timer = time.AfterFunc(s.loginTimeout, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if s.timerGen != gen || s.closed || s.stateLocked() == automation.StateReady {
			return
		}
		s.timedOut = true
		c.noteLocked(s)
	})
}

func (s *session) stopLocked() {
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	s.timerGen++
}
