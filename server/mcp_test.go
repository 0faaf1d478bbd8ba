package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/brokerd/brokerd/internal/brokerdtest"
	"github.com/brokerd/brokerd/server"
	"github.com/brokerd/brokerd/store"
)

// bearer adds an API key to every request of an MCP client.
type bearer struct {
	key  string
	next http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if b.key != "" {
		r.Header.Set("Authorization", "Bearer "+b.key)
	}
	return b.next.RoundTrip(r)
}

func connectMCP(t *testing.T, ctx context.Context, base, key string) (*mcp.ClientSession, error) {
	t.Helper()
	c := mcp.NewClient(&mcp.Implementation{Name: "brokerd-test", Version: "1"}, nil)
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint:   base + "/mcp",
		HTTPClient: &http.Client{Transport: bearer{key: key, next: http.DefaultTransport}},
		MaxRetries: -1,
	}, nil)
	if err == nil {
		t.Cleanup(func() { cs.Close() })
	}
	return cs, err
}

// answer is a tool result's structured content.
type answer struct {
	Success   bool            `json:"success"`
	Message   *string         `json:"message"`
	Data      json.RawMessage `json:"data"`
	ErrorCode *string         `json:"error_code"`
}

func call(t *testing.T, ctx context.Context, cs *mcp.ClientSession, tool string, args map[string]any) (answer, bool) {
	t.Helper()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("call %s: %v", tool, err)
	}
	if len(res.Content) != 1 {
		t.Fatalf("%s: %d contents", tool, len(res.Content))
	}
	text, ok := res.Content[0].(*mcp.TextContent)
	if !ok {
		t.Fatalf("%s: content %T", tool, res.Content[0])
	}
	var a answer
	if err := json.Unmarshal([]byte(text.Text), &a); err != nil {
		t.Fatalf("%s: %v: %s", tool, err, text.Text)
	}
	return a, res.IsError
}

func code(a answer) string {
	if a.ErrorCode == nil {
		return ""
	}
	return *a.ErrorCode
}

func TestMCPTools(t *testing.T) {
	b := brokerdtest.Start(t, brokerdtest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs, err := connectMCP(t, ctx, b.URL, "")
	if err != nil {
		t.Fatal(err)
	}

	// One tool per operation, with its schema; and the three of the queue.
	var names []string
	var buyTool *mcp.Tool
	for tool, err := range cs.Tools(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, tool.Name)
		if tool.Name == "buy" {
			buyTool = tool
		}
	}
	for _, want := range []string{"buy", "sell", "holding_query", "funds_query", "order_cancel", "operation_status", "operation_result", "operation_cancel"} {
		if !slices.Contains(names, want) {
			t.Errorf("no tool %s in %v", want, names)
		}
	}
	if buyTool == nil {
		t.Fatal("no buy tool")
	}
	schema, _ := json.Marshal(buyTool.InputSchema)
	var s struct {
		Type       string                    `json:"type"`
		Properties map[string]map[string]any `json:"properties"`
		Required   []string                  `json:"required"`
	}
	if err := json.Unmarshal(schema, &s); err != nil {
		t.Fatal(err)
	}
	slices.Sort(s.Required)
	if s.Type != "object" || !slices.Equal(s.Required, []string{"price", "quantity", "stock_code"}) ||
		s.Properties["stock_code"]["type"] != "string" || s.Properties["idempotency_key"] == nil || s.Properties["priority"] == nil {
		t.Fatalf("buy's input schema: %s", schema)
	}
	if !strings.Contains(buyTool.Description, "trade scope") || buyTool.Annotations == nil || buyTool.Annotations.ReadOnlyHint {
		t.Fatalf("buy's description %q annotations %+v", buyTool.Description, buyTool.Annotations)
	}

	// A buy goes through the submit path: journaled, validated, idempotent.
	args := map[string]any{"stock_code": "600000", "price": 10.50, "quantity": 100, "priority": 5, "idempotency_key": "mcp-buy-1"}
	a, isErr := call(t, ctx, cs, "buy", args)
	if isErr || !a.Success {
		t.Fatalf("buy: %+v", a)
	}
	var st server.StatusView
	if err := json.Unmarshal(a.Data, &st); err != nil || st.Status != "success" || st.Priority != 5 || st.Result == nil {
		t.Fatalf("buy's answer: %s", a.Data)
	}
	again, _ := call(t, ctx, cs, "buy", map[string]any{"stock_code": "600000", "price": 10.50, "quantity": 100, "priority": 5, "idempotency_key": "mcp-buy-1", "wait": 0})
	var sub server.SubmitView
	if err := json.Unmarshal(again.Data, &sub); err != nil || !sub.Duplicate || sub.OperationID != st.OperationID {
		t.Fatalf("replay: %s", again.Data)
	}
	if _, n, err := b.Store.History(ctx, store.HistoryFilter{Name: "buy", Limit: 10}); err != nil || n != 1 {
		t.Fatalf("journal holds %d buys (%v), want 1", n, err)
	}

	// A bad buy names every bad field, as the API's 422 does.
	bad, isErr := call(t, ctx, cs, "buy", map[string]any{"stock_code": 600000, "price": 0, "quantity": 100, "priority": 11})
	if !isErr || code(bad) != "invalid_params" {
		t.Fatalf("bad buy: %+v", bad)
	}
	var fe struct {
		Errors []struct{ Field, Reason string } `json:"errors"`
	}
	_ = json.Unmarshal(bad.Data, &fe)
	var fields []string
	for _, e := range fe.Errors {
		fields = append(fields, e.Field)
	}
	slices.Sort(fields)
	if !slices.Equal(fields, []string{"params.price", "params.stock_code", "priority"}) {
		t.Fatalf("bad fields %v", fields)
	}

	// A rejected order is an error result, not a success.
	rej, isErr := call(t, ctx, cs, "sell", map[string]any{"stock_code": "600000", "price": 10.50, "quantity": 90000})
	if !isErr || rej.Success || code(rej) != "rejected" {
		t.Fatalf("rejected sell: %+v", rej)
	}

	// Status, result, cancel of a queued operation.
	if err := b.Queue.Pause(ctx, "sim"); err != nil {
		t.Fatal(err)
	}
	q, _ := call(t, ctx, cs, "holding_query", map[string]any{"return_type": "json", "wait": 0.2})
	var queued server.StatusView
	if err := json.Unmarshal(q.Data, &queued); err != nil || queued.Status != "queued" {
		t.Fatalf("held query: %s", q.Data)
	}
	stat, isErr := call(t, ctx, cs, "operation_status", map[string]any{"operation_id": queued.OperationID})
	if isErr || !strings.Contains(string(stat.Data), `"status":"queued"`) {
		t.Fatalf("status: %+v", stat)
	}
	if r, _ := call(t, ctx, cs, "operation_result", map[string]any{"operation_id": queued.OperationID, "timeout": 0.1}); !strings.Contains(r.messageText(), "still queued") {
		t.Fatalf("result of a held operation: %+v", r)
	}
	c, isErr := call(t, ctx, cs, "operation_cancel", map[string]any{"operation_id": queued.OperationID})
	if isErr || !strings.Contains(string(c.Data), `"status":"cancelled"`) {
		t.Fatalf("cancel: %+v", c)
	}
	if c, isErr := call(t, ctx, cs, "operation_cancel", map[string]any{"operation_id": queued.OperationID}); !isErr || code(c) != "conflict" {
		t.Fatalf("second cancel: %+v", c)
	}
	if r, isErr := call(t, ctx, cs, "operation_result", map[string]any{"operation_id": queued.OperationID}); !isErr || code(r) != "cancelled" {
		t.Fatalf("result of a cancelled operation: %+v", r)
	}
	if r, isErr := call(t, ctx, cs, "operation_status", map[string]any{"operation_id": "nope"}); !isErr || code(r) != "not_found" {
		t.Fatalf("unknown id: %+v", r)
	}
}

func (a answer) messageText() string {
	if a.Message == nil {
		return ""
	}
	return *a.Message
}

func TestMCPKeysAndScopes(t *testing.T) {
	const trader, viewer = "mcp-trader-0123456789abcdef", "mcp-viewer-0123456789abcdef"
	b := brokerdtest.Start(t, brokerdtest.Options{Keys: []server.APIKey{
		{Name: "trader", Key: trader, Scopes: []server.Scope{server.ScopeRead, server.ScopeTrade}},
		{Name: "viewer", Key: viewer, Scopes: []server.Scope{server.ScopeRead}},
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	for _, key := range []string{"", "wrong-key-0123456789abcdef"} {
		if _, err := connectMCP(t, ctx, b.URL, key); err == nil {
			t.Fatalf("connected with key %q", key)
		}
	}
	view, err := connectMCP(t, ctx, b.URL, viewer)
	if err != nil {
		t.Fatal(err)
	}
	buy := map[string]any{"stock_code": "600000", "price": 10.50, "quantity": 100}
	if a, isErr := call(t, ctx, view, "buy", buy); !isErr || code(a) != "forbidden" || !strings.Contains(a.messageText(), `"trade"`) {
		t.Fatalf("read key buys: %+v", a)
	}
	if a, isErr := call(t, ctx, view, "funds_query", nil); isErr || !a.Success {
		t.Fatalf("read key queries: %+v", a)
	}
	if a, isErr := call(t, ctx, view, "operation_cancel", map[string]any{"operation_id": "x"}); !isErr || code(a) != "forbidden" {
		t.Fatalf("read key cancels: %+v", a)
	}
	if n := b.Queue.Stats().Counts; n.Success != 1 {
		t.Fatalf("%d operations ran, want the query only", n.Success)
	}
	trade, err := connectMCP(t, ctx, b.URL, trader)
	if err != nil {
		t.Fatal(err)
	}
	if a, isErr := call(t, ctx, trade, "buy", buy); isErr || !a.Success {
		t.Fatalf("trade key buys: %+v", a)
	}
}
