package ctpbee

// The session: /login, the JWT and what a refusal does to the state.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/brokerd/brokerd/automation"
)

// session is the token to use, logging in first when there is none.
func (t *terminal) session(ctx context.Context) (string, uint64, error) {
	t.mu.Lock()
	token, gen, halted, reason := t.token, t.gen, t.halted, t.reason
	t.mu.Unlock()
	if halted {
		return "", 0, automation.NotConnected("%s", reason)
	}
	if token != "" {
		return token, gen, nil
	}
	if err := t.relogin(ctx, gen); err != nil {
		return "", 0, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.token == "" {
		return "", 0, automation.NotConnected("not logged in to ctpbee_backend: %s", t.reason)
	}
	return t.token, t.gen, nil
}

// relogin logs in unless another caller already did since gen.
func (t *terminal) relogin(ctx context.Context, gen uint64) error {
	t.authMu.Lock()
	defer t.authMu.Unlock()
	t.mu.Lock()
	current, halted, reason := t.gen, t.halted, t.reason
	t.mu.Unlock()
	if halted {
		return automation.NotConnected("%s", reason)
	}
	if current != gen {
		return nil
	}
	a, err := t.send(ctx, http.MethodPost, "/login", t.login, "")
	if err != nil {
		t.setState(automation.StateReconnecting, "cannot log in to ctpbee_backend: "+err.Error())
		return automation.NotConnected("cannot log in to ctpbee_backend: %v", err)
	}
	var token string
	if a.Success {
		token, err = decodeToken(a)
	}
	switch {
	case !a.Success:
		return t.halt(fmt.Sprintf("ctpbee_backend refused the login: %s", a.Msg))
	case err != nil:
		return t.halt(err.Error())
	}
	t.mu.Lock()
	t.token = token
	t.gen++
	t.state, t.reason = automation.StateReady, ""
	t.mu.Unlock()
	t.log.Info("logged in to ctpbee_backend", "msg", a.Msg)
	return nil
}

func decodeToken(a answer) (string, error) {
	var token string
	if err := json.Unmarshal(a.Data, &token); err != nil || token == "" {
		return "", errors.New("ctpbee_backend's login answered no token")
	}
	return token, nil
}

// halt puts the terminal in error until Reconnect: the backend refused
// the credentials or a fresh token, which trying again by itself would
// not mend (and CTP locks an account after repeated wrong passwords).
func (t *terminal) halt(reason string) error {
	t.mu.Lock()
	t.halted = true
	t.token = ""
	t.state, t.reason = automation.StateError, reason
	t.mu.Unlock()
	t.log.Error("ctpbee terminal stopped; fix the cause and reconnect", "reason", reason)
	return automation.NotConnected("%s", reason)
}

func (t *terminal) setState(s automation.State, reason string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.halted {
		return
	}
	t.state, t.reason = s, reason
}
