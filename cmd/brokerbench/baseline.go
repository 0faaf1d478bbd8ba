package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
)

// The baseline is what brokerd's submit would cost with no queue and no
// journal: a bare Gin engine (gin.New, release mode, no middleware) whose
// handler decodes the same JSON body and answers the same envelope. brokerd's
// throughput is reported as a ratio to it, measured in the same run by the
// same client on the same machine.

// baselineRequest is decoded as brokerd decodes a submit body.
type baselineRequest struct {
	Params      map[string]any `json:"params"`
	Priority    int            `json:"priority"`
	Terminal    string         `json:"terminal"`
	Timeout     float64        `json:"timeout"`
	ExpireAfter float64        `json:"expire_after"`
	ClientID    string         `json:"client_id"`
}

type baselineEnvelope struct {
	Success   bool    `json:"success"`
	Message   *string `json:"message"`
	Data      any     `json:"data"`
	ErrorCode *string `json:"error_code"`
	Timestamp string  `json:"timestamp"`
}

type baselineSubmitted struct {
	OperationID   string `json:"operation_id"`
	Status        string `json:"status"`
	QueuePosition *int   `json:"queue_position"`
	Terminal      string `json:"terminal"`
	Duplicate     bool   `json:"duplicate"`
}

// baselineHandler is the bare Gin engine. A ?wait= submit answers at once
// as if the operation had succeeded: there is no queue to wait for, which
// makes it the floor of a round trip. For the waiters scenario it also
// answers /queue/pause and /queue/resume, blocks GET /operations/{id}/result
// while paused (on a channel, as brokerd does), and counts the blocked
// requests in a /metrics line named as brokerd's.
func baselineHandler() http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	var seq atomic.Uint64
	var waiters atomic.Int64
	var released atomic.Pointer[chan struct{}] // nil: not paused
	queued, badRequest := "operation queued", "bad_request"
	ok := func(c *gin.Context, msg *string, data any) {
		c.JSON(http.StatusOK, baselineEnvelope{Success: true, Message: msg, Data: data, Timestamp: now()})
	}
	r.POST("/api/v1/operations/:name", func(c *gin.Context) {
		var req baselineRequest
		if err := json.NewDecoder(c.Request.Body).Decode(&req); err != nil {
			msg := "the body is not valid JSON"
			c.JSON(http.StatusBadRequest, baselineEnvelope{Message: &msg, ErrorCode: &badRequest, Timestamp: now()})
			return
		}
		pos := 0
		data := baselineSubmitted{OperationID: strconv.FormatUint(seq.Add(1), 10), Status: "queued", QueuePosition: &pos, Terminal: "sim"}
		if _, wait := c.GetQuery("wait"); wait {
			data.Status, data.QueuePosition = "success", nil
		}
		ok(c, &queued, data)
	})
	r.GET("/api/v1/operations/:id/result", func(c *gin.Context) {
		if ch := released.Load(); ch != nil {
			waiters.Add(1)
			select {
			case <-*ch:
			case <-c.Request.Context().Done():
			}
			waiters.Add(-1)
		}
		ok(c, nil, nil)
	})
	r.POST("/api/v1/queue/pause", func(c *gin.Context) {
		ch := make(chan struct{})
		released.CompareAndSwap(nil, &ch)
		ok(c, nil, nil)
	})
	r.POST("/api/v1/queue/resume", func(c *gin.Context) {
		if ch := released.Swap(nil); ch != nil {
			close(*ch)
		}
		ok(c, nil, nil)
	})
	r.GET("/api/v1/ping", func(c *gin.Context) { ok(c, nil, map[string]string{"status": "pong"}) })
	r.GET("/metrics", func(c *gin.Context) {
		c.String(http.StatusOK, "brokerd_result_waiters %d\n", waiters.Load())
	})
	return r
}

func now() string { return time.Now().Format("2006-01-02T15:04:05.000000-07:00") }

// serveBaseline listens on addr and serves the baseline until ctx ends; it
// calls ready with the URL once it listens.
func serveBaseline(ctx context.Context, addr string, ready func(url string)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("baseline: listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: baselineHandler(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	ready("http://" + ln.Addr().String())
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// runBaseline is the "baseline" subcommand: the bench starts it as a
// process of its own, as brokerd is, so that both are measured alike.
func runBaseline(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("brokerbench baseline", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "listen address (loopback)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return serveBaseline(ctx, *addr, func(url string) { fmt.Fprintf(stdout, "baseline listening on %s\n", url) })
}
