package server

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/brokerd/brokerd/queue"
)

// Metrics holds brokerd's Prometheus metrics on a registry of their own. It
// is a queue.Observer (operations finishing, their wait and execution
// times); the lanes' depth and state and the terminals' health are read
// from the queue and the terminals when scraped, so they are never out of
// step. Labels are bounded: terminal, operation, status (never an id).
type Metrics struct {
	reg *prometheus.Registry

	submitted *prometheus.CounterVec
	finished  *prometheus.CounterVec
	replays   *prometheus.CounterVec
	queueWait *prometheus.HistogramVec
	execution *prometheus.HistogramVec
	http      *prometheus.HistogramVec

	// waiters counts the clients blocked on a result right now.
	waiters atomic.Int64
	watched atomic.Bool
}

// durationBuckets span a millisecond to ten minutes.
var durationBuckets = prometheus.ExponentialBuckets(0.001, 4, 10)

// NewMetrics builds the metrics with the Go and process collectors.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		submitted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "brokerd_operations_submitted_total",
			Help: "Operations accepted by POST /operations/{name} (idempotent replays excluded).",
		}, []string{"operation", "terminal"}),
		finished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "brokerd_operations_finished_total",
			Help: "Operations that reached a final status (success, failed, cancelled).",
		}, []string{"operation", "terminal", "status"}),
		replays: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "brokerd_idempotent_replays_total",
			Help: "Submits answered with an existing operation because their idempotency key was seen before.",
		}, []string{"terminal"}),
		queueWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "brokerd_queue_wait_seconds",
			Help:    "Time from submit to the start of execution.",
			Buckets: durationBuckets,
		}, []string{"operation", "terminal"}),
		execution: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "brokerd_operation_duration_seconds",
			Help:    "Execution time of operations on their terminal, from start to final status.",
			Buckets: durationBuckets,
		}, []string{"operation", "terminal"}),
		http: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "brokerd_http_request_duration_seconds",
			Help:    "HTTP request duration by route pattern, method and status code.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method", "code"}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.submitted, m.finished, m.replays, m.queueWait, m.execution, m.http,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "brokerd_result_waiters",
			Help: "Clients blocked on GET /operations/{id}/result or POST ?wait= right now.",
		}, func() float64 { return float64(m.waiters.Load()) }),
	)
	return m
}

// Registry is the metrics' registry, for other collectors cmd may add.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// OperationChanged implements queue.Observer. It only updates counters:
// the other observers' events wait behind it.
func (m *Metrics) OperationChanged(op queue.Operation) {
	switch {
	case op.Status == queue.StatusRunning:
		if !op.SubmittedAt.IsZero() && !op.StartedAt.IsZero() {
			// A scheduled operation waits from its not_before on.
			from := op.SubmittedAt
			if op.NotBefore.After(from) {
				from = op.NotBefore
			}
			m.queueWait.WithLabelValues(op.Name, op.Terminal).Observe(op.StartedAt.Sub(from).Seconds())
		}
	case op.Status.Final():
		m.finished.WithLabelValues(op.Name, op.Terminal, string(op.Status)).Inc()
		// An interrupted operation's span includes the downtime: not an
		// execution time.
		if !op.StartedAt.IsZero() && op.ErrorCode != queue.CodeInterrupted {
			m.execution.WithLabelValues(op.Name, op.Terminal).Observe(op.FinishedAt.Sub(op.StartedAt).Seconds())
		}
	}
}

// LaneChanged implements queue.Observer; lane states are read at scrape.
func (m *Metrics) LaneChanged(string, queue.LaneState) {}

// watch makes the lane and terminal gauges read q and the terminals when
// scraped. One Metrics serves one server.
func (m *Metrics) watch(q Queue, terminals Terminals, order []string) error {
	if !m.watched.CompareAndSwap(false, true) {
		return errors.New("server: these Metrics already serve another server; give each its own NewMetrics")
	}
	for _, name := range order {
		m.replays.WithLabelValues(name) // exported as 0 before the first replay
	}
	return m.reg.Register(&laneCollector{q: q, terminals: terminals, order: order})
}

var (
	descDepth = prometheus.NewDesc("brokerd_queue_depth",
		"Operations queued on a terminal's lane, waiting to run.", []string{"terminal"}, nil)
	descRunning = prometheus.NewDesc("brokerd_operations_running",
		"Operations executing on a terminal's lane (0 or 1).", []string{"terminal"}, nil)
	descPaused = prometheus.NewDesc("brokerd_lane_paused",
		"1 when the terminal's lane is paused (POST /queue/pause).", []string{"terminal"}, nil)
	descStuck = prometheus.NewDesc("brokerd_lane_stuck",
		"1 when the terminal's driver has not returned after an operation's deadline.", []string{"terminal"}, nil)
	descUp = prometheus.NewDesc("brokerd_terminal_up",
		"1 when the terminal is ready to take operations.", []string{"terminal"}, nil)
)

// laneCollector reads the lanes' and terminals' state at scrape time.
type laneCollector struct {
	q         Queue
	terminals Terminals
	order     []string // the lanes, each with a terminal (New checked)
}

func (l *laneCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descDepth, descRunning, descPaused, descStuck, descUp} {
		ch <- d
	}
}

func (l *laneCollector) Collect(ch chan<- prometheus.Metric) {
	for _, ls := range l.q.Stats().Lanes {
		ch <- prometheus.MustNewConstMetric(descDepth, prometheus.GaugeValue, float64(ls.Queued), ls.Terminal)
		ch <- prometheus.MustNewConstMetric(descRunning, prometheus.GaugeValue, float64(ls.Running), ls.Terminal)
		ch <- prometheus.MustNewConstMetric(descPaused, prometheus.GaugeValue, boolFloat(ls.Paused), ls.Terminal)
		ch <- prometheus.MustNewConstMetric(descStuck, prometheus.GaugeValue, boolFloat(ls.State == queue.LaneStuck), ls.Terminal)
	}
	for _, name := range l.order {
		t, _ := l.terminals.Terminal(name)
		ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, boolFloat(t.State().Healthy()), name)
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// observeHTTP records every request's duration by route pattern.
func (s *Server) observeHTTP(c *gin.Context) {
	start := s.now()
	c.Next()
	s.metrics.http.WithLabelValues(routeLabel(c), methodLabel(c.Request.Method), strconv.Itoa(c.Writer.Status())).
		Observe(s.now().Sub(start).Seconds())
}

// methodLabel keeps the method label bounded: a client may send any word.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodPost, http.MethodDelete, http.MethodPut, http.MethodPatch,
		http.MethodHead, http.MethodOptions:
		return m
	}
	return "OTHER"
}

// metricsHandler serves the exposition.
func (s *Server) metricsHandler() gin.HandlerFunc {
	h := promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{ErrorLog: slogPrinter{s}})
	return gin.WrapH(h)
}

// slogPrinter adapts the server's logger to promhttp's error log.
type slogPrinter struct{ s *Server }

func (p slogPrinter) Println(v ...any) {
	p.s.log.Error("serve metrics", "err", fmt.Sprint(v...))
}
