package gateway

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"github.com/brokerd/brokerd/automation"
)

// Hub keeps one socket per gateway url, shared by every terminal opened
// through it and reference-counted: the socket is dialled with the first
// terminal and closed with the last. Open uses DefaultHub; tests make their
// own (to dial wss:// with a test certificate, or to stay apart).
type Hub struct {
	// HTTPClient dials the gateway; nil is http.DefaultClient.
	HTTPClient *http.Client

	mu    sync.Mutex
	conns map[string]*conn
}

// DefaultHub is the process's hub: every terminal of config.toml with the
// same url shares its socket.
var DefaultHub = &Hub{}

// Open is the gateway driver's automation.Opener, on DefaultHub.
func Open(ctx context.Context, name string, opts automation.Options, env automation.Env) (automation.Terminal, error) {
	return DefaultHub.Open(ctx, name, opts, env)
}

// Open decodes and checks the options, reads the keys from the
// environment, and returns the terminal at once: the socket is dialled and
// the platform logged in in the background (State tells how far it got).
func (h *Hub) Open(ctx context.Context, name string, raw automation.Options, env automation.Env) (automation.Terminal, error) {
	opts := DefaultOptions()
	if err := raw.Decode(&opts); err != nil {
		return nil, err
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	access, err := env.Secret("access_key_env", opts.AccessKeyEnv)
	if err != nil {
		return nil, err
	}
	secret, err := env.Secret("secret_key_env", opts.SecretKeyEnv)
	if err != nil {
		return nil, err
	}
	t := newTerminal(name, opts, env)
	s := &session{
		name: name, platform: opts.Platform, symbols: append([]string(nil), opts.Symbols...),
		access: access, secret: secret,
		loginTimeout:   opts.LoginTimeout.Value(),
		requestTimeout: opts.RequestTimeout.Value(),
		log:            env.Log(), term: t,
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.conns == nil {
		h.conns = map[string]*conn{}
	}
	c, ok := h.conns[opts.URL]
	if ok && c.cfg != opts.socket() {
		return nil, fmt.Errorf("gateway terminal %s shares url %s with %s but not its ping_every, pong_timeout, reconnect_min and reconnect_max", name, opts.URL, c.firstName)
	}
	if !ok {
		c = newConn(opts.socket(), h.HTTPClient, env.Log(), name)
		h.conns[opts.URL] = c
		c.start()
	}
	t.attach(h, c, s)
	c.add(s)
	return t, nil
}

// release drops s from its socket; the last one closes the socket and
// waits for its goroutines.
func (h *Hub) release(c *conn, s *session) {
	h.mu.Lock()
	last := c.remove(s)
	if last && h.conns[c.cfg.url] == c {
		delete(h.conns, c.cfg.url)
	}
	h.mu.Unlock()
	if last {
		c.stop()
	}
}
