package server

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	readKey  = "read-key-0123456789abcdef"
	tradeKey = "trade-key-0123456789abcdef"
	adminKey = "admin-key-0123456789abcdef"
	allKey   = "all-scopes-key-0123456789"
	// tradeOnlyKey may trade but not read.
	tradeOnlyKey = "trade-only-key-0123456789"
)

func withKeys(metricsAuth bool) harnessOption {
	return withConfig(func(c *Config) {
		c.MetricsAuth = metricsAuth
		c.Keys = []APIKey{
			{Name: "reader", Key: readKey, Scopes: []Scope{ScopeRead}},
			{Name: "trader", Key: tradeKey, Scopes: []Scope{ScopeRead, ScopeTrade}},
			{Name: "ops", Key: adminKey, Scopes: []Scope{ScopeAdmin}},
			{Name: "api.key", Key: allKey}, // the single [api] key: every scope
			{Name: "bot", Key: tradeOnlyKey, Scopes: []Scope{ScopeTrade}},
		}
	})
}

func TestAuthScopes(t *testing.T) {
	h := newHarness(t, withKeys(false))
	id := h.submittedWith(allKey, "/api/v1/operations/funds_query?wait=10")

	type call struct{ method, path, body string }
	var (
		ping    = call{"GET", "/api/v1/ping", ""}
		health  = call{"GET", "/api/v1/system/health", ""}
		status  = call{"GET", "/api/v1/operations/" + id + "/status", ""}
		result  = call{"GET", "/api/v1/operations/" + id + "/result", ""}
		list    = call{"GET", "/api/v1/operations/", ""}
		stats   = call{"GET", "/api/v1/queue/stats", ""}
		info    = call{"GET", "/api/v1/system/info", ""}
		submit  = call{"POST", "/api/v1/operations/funds_query", ""}
		cancel  = call{"DELETE", "/api/v1/operations/" + id, ""}
		pause   = call{"POST", "/api/v1/queue/resume?terminal=backup", ""}
		recon   = call{"POST", "/api/v1/system/reconnect?terminal=backup", ""}
		quote   = call{"POST", "/api/v1/sim/quote", `{"terminal":"paper","stock_code":"600000","price":10}`}
		metrics = call{"GET", "/metrics", ""}
		docs    = call{"GET", "/docs/doc.json", ""}
	)
	tests := []struct {
		name   string
		call   call
		auth   string // the Authorization header
		status int
	}{
		{"ping needs no key", ping, "", 200},
		{"health needs no key", health, "", 200},
		{"metrics open by default", metrics, "", 200},
		{"docs open when enabled", docs, "", 200},
		{"status without key", status, "", 401},
		{"status with a wrong key", status, "Bearer nope", 401},
		{"status with a key in another scheme", status, "Basic " + readKey, 401},
		{"status with a key prefix", status, "Bearer " + readKey[:10], 401},
		{"status with read", status, "Bearer " + readKey, 200},
		{"scheme is case-insensitive", status, "bearer " + readKey, 200},
		{"result with read", result, "Bearer " + readKey, 200},
		{"list with read", list, "Bearer " + readKey, 200},
		{"stats with read", stats, "Bearer " + readKey, 200},
		{"info with read", info, "Bearer " + readKey, 200},
		{"status with admin only", status, "Bearer " + adminKey, 403},
		{"submit a query with read", submit, "Bearer " + readKey, 200},
		{"submit a holding query with read", call{"POST", "/api/v1/operations/holding_query", ""}, "Bearer " + readKey, 200},
		{"submit an order with read", call{"POST", "/api/v1/operations/buy", buyBody}, "Bearer " + readKey, 403},
		{"submit a cancel order with read", call{"POST", "/api/v1/operations/order_cancel", `{"params":{"entrust_no":"1"}}`}, "Bearer " + readKey, 403},
		{"submit an unknown operation with read", call{"POST", "/api/v1/operations/teleport", ""}, "Bearer " + readKey, 403},
		{"submit a query with admin only", submit, "Bearer " + adminKey, 403},
		{"submit a query with trade only", submit, "Bearer " + tradeOnlyKey, 200},
		{"submit an order with trade only", call{"POST", "/api/v1/operations/buy", buyBody}, "Bearer " + tradeOnlyKey, 200},
		{"submit with trade", submit, "Bearer " + tradeKey, 200},
		{"submit without key", submit, "", 401},
		{"cancel with read", cancel, "Bearer " + readKey, 403},
		{"cancel with trade reaches the queue", cancel, "Bearer " + tradeKey, 409},
		{"resume with trade", pause, "Bearer " + tradeKey, 403},
		{"resume with admin", pause, "Bearer " + adminKey, 200},
		{"reconnect with trade", recon, "Bearer " + tradeKey, 403},
		{"reconnect with admin", recon, "Bearer " + adminKey, 200},
		{"sim quote with trade", quote, "Bearer " + tradeKey, 403},
		{"sim quote with admin", quote, "Bearer " + adminKey, 200},
		{"the single key has every scope", quote, "Bearer " + allKey, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hdr := map[string]string{}
			if tc.auth != "" {
				hdr["Authorization"] = tc.auth
			}
			w := h.serve(request{method: tc.call.method, path: tc.call.path, body: tc.call.body, header: hdr})
			if w.Code != tc.status {
				t.Fatalf("got %d, want %d: %s", w.Code, tc.status, w.Body.String())
			}
			switch tc.status {
			case 401:
				expect(t, w, 401, codeUnauthorized)
				if !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("WWW-Authenticate %q", w.Header().Get("WWW-Authenticate"))
				}
			case 403:
				e := expect(t, w, 403, codeForbidden)
				if !strings.Contains(e.message(), "scope") {
					t.Errorf("message %q does not name the scope", e.message())
				}
			}
		})
	}
}

func (h *harness) submittedWith(key, path string) string {
	h.t.Helper()
	w := h.serve(request{method: "POST", path: path, header: map[string]string{"Authorization": "Bearer " + key}})
	return dataAs[SubmitView](h.t, expect(h.t, w, 200, "")).OperationID
}

func TestMetricsBehindAKey(t *testing.T) {
	h := newHarness(t, withKeys(true))
	expect(t, h.get("/metrics"), 401, codeUnauthorized)
	w := h.serve(request{method: "GET", path: "/metrics", header: map[string]string{"Authorization": "Bearer " + readKey}})
	if w.Code != 200 || !strings.Contains(w.Body.String(), "brokerd_") {
		t.Fatalf("%d", w.Code)
	}
}

func TestOpenWithoutKeys(t *testing.T) {
	h := newHarness(t)
	for _, path := range []string{"/api/v1/queue/stats", "/api/v1/system/status", "/metrics"} {
		if w := h.get(path); w.Code != 200 {
			t.Errorf("%s: %d", path, w.Code)
		}
	}
	expect(t, h.post("/api/v1/queue/pause?terminal=main", ""), 200, "")
}

func TestRateLimit(t *testing.T) {
	h := newHarness(t, withConfig(func(c *Config) { c.RateLimit = 2; c.RateBurst = 2 }))
	from := func(remote string, hdr map[string]string) *request {
		return &request{method: "GET", path: "/api/v1/ping", remote: remote, header: hdr}
	}
	a := from("192.0.2.1:5000", nil)
	for i := range 2 {
		if w := h.serve(*a); w.Code != 200 {
			t.Fatalf("request %d: %d", i, w.Code)
		}
	}
	w := h.serve(*a)
	expect(t, w, http.StatusTooManyRequests, codeRateLimited)
	if s, err := strconv.Atoi(w.Header().Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("Retry-After %q", w.Header().Get("Retry-After"))
	}
	// Swagger UI's files are not limited: a browser fetches several at once.
	if w := h.serve(request{method: "GET", path: "/docs/index.html", remote: "192.0.2.1:5000"}); w.Code != 200 {
		t.Errorf("docs limited: %d", w.Code)
	}
	// Another port of the same address is the same client; a forged
	// X-Forwarded-For changes nothing.
	expect(t, h.serve(*from("192.0.2.1:6000", map[string]string{"X-Forwarded-For": "198.51.100.7"})), 429, codeRateLimited)
	// Another client has its own bucket.
	expect(t, h.serve(*from("192.0.2.2:5000", nil)), 200, "")
	// IPv6 clients share a /64.
	expect(t, h.serve(*from("[2001:db8::1]:1", nil)), 200, "")
	expect(t, h.serve(*from("[2001:db8::2]:1", nil)), 200, "")
	expect(t, h.serve(*from("[2001:db8::3]:1", nil)), 429, codeRateLimited)
	// Tokens come back with time.
	h.clock.Advance(500 * time.Millisecond)
	expect(t, h.serve(*a), 200, "")
	expect(t, h.serve(*a), 429, codeRateLimited)
}

func TestRateLimiterForgetsTheLeastRecentClient(t *testing.T) {
	clock := &testClock{now: time.Unix(0, 0)}
	l := newRateLimiter(1, 1, 2, clock.Now)
	for _, c := range []string{"a", "b"} {
		if ok, _ := l.allow(c); !ok {
			t.Fatal(c)
		}
	}
	if ok, wait := l.allow("a"); ok || wait != time.Second {
		t.Fatalf("a again: %v %v", ok, wait)
	}
	l.allow("c") // evicts b, the least recently seen
	if len(l.clients) != 2 {
		t.Fatalf("%d clients remembered", len(l.clients))
	}
	if _, ok := l.clients["b"]; ok {
		t.Error("b was kept")
	}
	if ok, _ := l.allow("a"); ok {
		t.Error("a was forgotten instead of b")
	}
}

func TestCORS(t *testing.T) {
	h := newHarness(t, withConfig(func(c *Config) { c.CORSOrigins = []string{"https://desk.example"} }))
	tests := []struct {
		name, method, origin string
		preflight            bool
		status               int
		allowOrigin          string
	}{
		{"allowed origin", "GET", "https://desk.example", false, 200, "https://desk.example"},
		{"other origin", "GET", "https://evil.example", false, 403, ""},
		{"no origin", "GET", "", false, 200, ""},
		{"preflight of an allowed origin", "OPTIONS", "https://desk.example", true, 204, "https://desk.example"},
		{"preflight of another origin", "OPTIONS", "https://evil.example", true, 204, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hdr := map[string]string{}
			if tc.origin != "" {
				hdr["Origin"] = tc.origin
			}
			if tc.preflight {
				hdr["Access-Control-Request-Method"] = "POST"
				hdr["Access-Control-Request-Headers"] = "authorization, content-type"
			}
			w := h.serve(request{method: tc.method, path: "/api/v1/queue/stats", header: hdr})
			if w.Code != tc.status {
				t.Fatalf("%d", w.Code)
			}
			if got := w.Header().Get("Access-Control-Allow-Origin"); got != tc.allowOrigin {
				t.Errorf("Allow-Origin %q, want %q", got, tc.allowOrigin)
			}
			allowHeaders := w.Header().Get("Access-Control-Allow-Headers")
			if tc.preflight && tc.allowOrigin != "" && !strings.Contains(allowHeaders, "Authorization") {
				t.Errorf("Allow-Headers %q", allowHeaders)
			}
			if tc.allowOrigin == "" && allowHeaders != "" {
				t.Errorf("a refused origin got Allow-Headers %q", allowHeaders)
			}
		})
	}

	any := newHarness(t, withConfig(func(c *Config) { c.CORSOrigins = []string{"*"} }))
	w := any.serve(request{method: "GET", path: "/api/v1/ping", header: map[string]string{"Origin": "https://x.example"}})
	if got := w.Header().Get("Access-Control-Allow-Origin"); got != "*" {
		t.Errorf("wildcard: %q", got)
	}
}

func TestSecretsAreNeverLogged(t *testing.T) {
	h := newHarness(t, withKeys(false))
	wrongKey := "wrong-key-that-must-not-be-logged-42"
	calls := []request{
		{method: "POST", path: "/api/v1/operations/buy", body: buyBody, header: map[string]string{"Authorization": "Bearer " + tradeKey}},
		{method: "POST", path: "/api/v1/operations/buy?wait=5", body: `{"params":{"stock_code":"600000","price":10.5,"quantity":100}}`,
			header: map[string]string{"Authorization": "Bearer " + allKey, "Idempotency-Key": "idem-1"}},
		{method: "GET", path: "/api/v1/queue/stats", header: map[string]string{"Authorization": "Bearer " + wrongKey}},
		{method: "GET", path: "/api/v1/queue/stats", header: map[string]string{"Authorization": "Bearer " + readKey}},
		{method: "POST", path: "/api/v1/queue/pause", header: map[string]string{"Authorization": "Bearer " + adminKey}},
		{method: "POST", path: "/api/v1/operations/buy", body: `{"params":{"stock_code":"bad"}}`, header: map[string]string{"Authorization": "Bearer " + tradeKey}},
		{method: "GET", path: "/nope?api_key=" + readKey, header: map[string]string{"Authorization": "Bearer " + readKey}},
	}
	for _, c := range calls {
		h.serve(c)
	}
	logs := h.logs.String()
	if !strings.Contains(logs, "http request") {
		t.Fatalf("nothing was logged: %q", logs)
	}
	for _, secret := range []string{readKey, tradeKey, adminKey, allKey, wrongKey, "Bearer", "Authorization"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log contains %q:\n%s", secret, logs)
		}
	}
	// Which key acted is logged by name.
	if !strings.Contains(logs, "key_name=trader") || !strings.Contains(logs, "key_name=ops") {
		t.Errorf("key names not logged:\n%s", logs)
	}
}

func TestEnvelopeOnEveryKindOfAnswer(t *testing.T) {
	h := newHarness(t, withKeys(false))
	tests := []struct {
		name, method, path string
		auth               bool
		status             int
		code               string
	}{
		{"success", "GET", "/api/v1/ping", false, 200, ""},
		{"error", "GET", "/api/v1/operations/x/status", true, 404, codeNotFound},
		{"unknown route", "GET", "/api/v1/nope", false, 404, codeNotFound},
		{"unknown route outside the API", "GET", "/", false, 404, codeNotFound},
		{"trailing slash is another route", "GET", "/api/v1/ping/", false, 404, codeNotFound},
		{"method not allowed", "PUT", "/api/v1/ping", false, 405, codeMethodNotAllowed},
		{"method not allowed on submit", "GET", "/api/v1/operations/buy", true, 405, codeMethodNotAllowed},
		{"unauthorized", "GET", "/api/v1/queue/stats", false, 401, codeUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hdr := map[string]string{}
			if tc.auth {
				hdr["Authorization"] = "Bearer " + allKey
			}
			w := h.serve(request{method: tc.method, path: tc.path, header: hdr})
			e := expect(t, w, tc.status, tc.code)
			if tc.code != "" && e.message() == "" {
				t.Error("no message")
			}
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
			if tc.status == 405 && w.Header().Get("Allow") == "" {
				t.Error("405 without Allow")
			}
		})
	}
	// The status answer's nulls are real nulls.
	body := h.serve(request{method: "GET", path: "/api/v1/nope"}).Body.String()
	if !strings.Contains(body, `"data":null`) {
		t.Errorf("%s", body)
	}
}

func TestKeyringComparesEveryKey(t *testing.T) {
	r, err := newKeyring([]APIKey{{Name: "a", Key: "first-key-0123456789"}, {Name: "b", Key: "second-key-0123456789"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		presented, want string
	}{
		{"first-key-0123456789", "a"},
		{"second-key-0123456789", "b"},
		{"second-key-012345678", ""},
		{"", ""},
	} {
		name := ""
		if k, ok := r.find(tc.presented); ok {
			name = k.name
		}
		if name != tc.want {
			t.Errorf("%q matched %q, want %q", tc.presented, name, tc.want)
		}
	}
	if weak, _ := newKeyring([]APIKey{{Key: "short"}}); !weak.keys[0].weak {
		t.Error("a 5-character key is not flagged weak")
	}
}

// TestBrowserGuard: a web page must not be able to make a visitor's browser
// place orders (a "simple" cross-origin POST needs no preflight) or read
// brokerd through a rebound DNS name; scripts (no Origin) pass.
func TestBrowserGuard(t *testing.T) {
	tests := []struct {
		name        string
		loopback    bool // LoopbackHostsOnly, as cmd sets it without a key
		origin      string
		host        string
		contentType string
		status      int
	}{
		{"script: no origin", true, "", "127.0.0.1:7648", "application/json", 200},
		{"drive-by order from another page", true, "https://evil.example", "127.0.0.1:7648", "text/plain", 403},
		{"drive-by from a sandboxed frame", true, "null", "127.0.0.1:7648", "text/plain", 403},
		{"Swagger UI served here", true, "http://127.0.0.1:7648", "127.0.0.1:7648", "application/json", 200},
		{"allowed origin", true, "https://desk.example", "127.0.0.1:7648", "application/json", 200},
		{"rebound name", true, "", "evil.example:7648", "application/json", 403},
		{"rebound name, same origin", true, "http://evil.example:7648", "evil.example:7648", "application/json", 403},
		{"localhost", true, "", "localhost:7648", "application/json", 200},
		{"ipv6 loopback", true, "", "[::1]:7648", "application/json", 200},
		{"any name once a key guards it", false, "", "brokerd.lan:7648", "application/json", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, withConfig(func(c *Config) {
				c.CORSOrigins = []string{"https://desk.example"}
				c.LoopbackHostsOnly = tt.loopback
			}))
			hdr := map[string]string{"Content-Type": tt.contentType}
			if tt.origin != "" {
				hdr["Origin"] = tt.origin
			}
			w := h.serve(request{method: "POST", path: "/api/v1/operations/funds_query", body: "{}", header: hdr, host: tt.host})
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if tt.status == 403 {
				expect(t, w, 403, codeForbidden)
				if n := h.submits(); n != 0 {
					t.Errorf("%d operations queued by a refused request", n)
				}
			}
		})
	}
}

// TestAllowsAnyOriginAgreesWithThePolicy: cmd refuses "*" without a key by
// AllowsAnyOrigin; it must say yes for exactly the spellings the policy
// turns into "allow every origin".
func TestAllowsAnyOriginAgreesWithThePolicy(t *testing.T) {
	for _, o := range []string{"*", "* ", " *", "*/", "*//", "\t*\n", " */ ", "https://desk.example", "https://desk.example/", "HTTPS://Desk.Example"} {
		p, err := newCORSPolicy([]string{o})
		if err != nil {
			t.Fatalf("%q: %v", o, err)
		}
		if got := AllowsAnyOrigin([]string{o}); got != p.any {
			t.Errorf("AllowsAnyOrigin(%q) = %v, but the policy allows any origin: %v", o, got, p.any)
		}
		if p.any {
			continue
		}
		if !p.allows("https://desk.example") || p.allows("http://evil.example") {
			t.Errorf("%q: the policy does not allow exactly https://desk.example", o)
		}
	}
}

// TestRebindGuardWithAKey: with a key set, the routes that need none are
// still refused to a rebound name (a page of evil.example pointing its
// name at brokerd), while the keyed routes and known hosts pass.
func TestRebindGuardWithAKey(t *testing.T) {
	h := newHarness(t, withKeys(false), withConfig(func(c *Config) { c.Hosts = []string{"brokerd.lan"} }))
	tests := []struct {
		name, path, host, auth string
		status                 int
	}{
		{"metrics through a rebound name", "/metrics", "evil.example:7648", "", 403},
		{"health through a rebound name", "/api/v1/system/health", "evil.example:7648", "", 403},
		{"ping through a rebound name", "/api/v1/ping", "evil.example", "", 403},
		{"docs through a rebound name", "/docs/doc.json", "evil.example:7648", "", 403},
		{"metrics by a listed name", "/metrics", "brokerd.lan:7648", "", 200},
		{"metrics by a listed name in capitals, fully qualified", "/metrics", "BROKERD.LAN.:7648", "", 200},
		{"health by IP address", "/api/v1/system/health", "192.168.1.10:7648", "", 200},
		{"health by IPv6 address", "/api/v1/system/health", "[fe80::1]:7648", "", 200},
		{"health by localhost", "/api/v1/system/health", "localhost:7648", "", 200},
		{"health without a Host", "/api/v1/system/health", " ", "", 403},
		{"a keyed route by any name", "/api/v1/queue/stats", "evil.example:7648", "Bearer " + readKey, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hdr := map[string]string{}
			if tc.auth != "" {
				hdr["Authorization"] = tc.auth
			}
			w := h.serve(request{method: "GET", path: tc.path, host: tc.host, header: hdr})
			if w.Code != tc.status {
				t.Fatalf("%d, want %d: %s", w.Code, tc.status, w.Body)
			}
			if tc.status == 403 {
				expect(t, w, 403, codeForbidden)
			}
		})
	}
}
