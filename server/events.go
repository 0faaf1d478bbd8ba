package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/queue"
)

// Event types on /events.
const (
	eventOperation = "operation" // an operation was queued, started or finished
	eventLane      = "lane"      // a lane went idle, running, paused, stuck or stopped
	eventTerminal  = "terminal"  // a terminal's connection state changed
	eventVenue     = "venue"     // a venue reported something itself: an order update, a fill
	eventDropped   = "dropped"   // this client read too slowly; events were lost
)

// subscriberBuffer is how many events a slow client may fall behind before
// events are dropped for it (and it is told).
const subscriberBuffer = 256

// Events fans brokerd's changes out to the /events streams. It is a
// queue.Observer: publishing never blocks, a subscriber whose buffer is full
// loses the event and is told so, and the queue never waits for a client.
type Events struct {
	now func() time.Time
	seq atomic.Uint64
	// open counts the subscriptions, so that a change nobody follows
	// costs the queue nothing.
	open atomic.Int64

	mu   sync.RWMutex
	subs map[*subscription]struct{}
}

// NewEvents builds an event bus with no subscribers.
func NewEvents() *Events {
	return &Events{now: time.Now, subs: make(map[*subscription]struct{})}
}

// event is one change. Its JSON is built once, by the first stream that
// writes it, outside the queue's lock.
type event struct {
	id        uint64
	kind      string
	terminal  string
	operation string // id
	name      string // operation name
	value     func() any

	once sync.Once
	data []byte
}

func (e *event) encode() []byte {
	e.once.Do(func() {
		b, err := json.Marshal(e.value())
		if err != nil {
			b = []byte(`{"error":"event could not be encoded"}`)
		}
		e.data = b
	})
	return e.data
}

// eventFilter selects the events a stream wants; empty fields match all.
type eventFilter struct {
	terminal string
	// operation matches an operation's id or its name; a stream that
	// follows operations gets no lane or terminal events.
	operation string
}

func (f eventFilter) matches(e *event) bool {
	if f.terminal != "" && e.terminal != f.terminal {
		return false
	}
	if f.operation != "" && (e.kind != eventOperation || (e.operation != f.operation && e.name != f.operation)) {
		return false
	}
	return true
}

type subscription struct {
	filter  eventFilter
	ch      chan *event
	dropped atomic.Int64
}

func (b *Events) subscribe(f eventFilter) *subscription {
	sub := &subscription{filter: f, ch: make(chan *event, subscriberBuffer)}
	b.mu.Lock()
	b.subs[sub] = struct{}{}
	b.open.Add(1)
	b.mu.Unlock()
	return sub
}

func (b *Events) unsubscribe(sub *subscription) {
	b.mu.Lock()
	if _, ok := b.subs[sub]; ok {
		delete(b.subs, sub)
		b.open.Add(-1)
	}
	b.mu.Unlock()
}

// subscribers is the number of open streams.
func (b *Events) subscribers() int { return int(b.open.Load()) }

func (b *Events) publish(e *event) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if len(b.subs) == 0 {
		return
	}
	e.id = b.seq.Add(1)
	for sub := range b.subs {
		if !sub.filter.matches(e) {
			continue
		}
		select {
		case sub.ch <- e:
		default:
			sub.dropped.Add(1)
		}
	}
}

// OperationChanged implements queue.Observer.
func (b *Events) OperationChanged(op queue.Operation) {
	if b.open.Load() == 0 {
		return
	}
	at := b.now()
	b.publish(&event{
		kind: eventOperation, terminal: op.Terminal, operation: op.ID, name: op.Name,
		value: func() any { return newStatusView(op, at) },
	})
}

// laneEvent is a lane's new state.
type laneEvent struct {
	Terminal  string `json:"terminal"`
	State     string `json:"state"`
	Timestamp string `json:"timestamp"`
}

// LaneChanged implements queue.Observer.
func (b *Events) LaneChanged(terminal string, state queue.LaneState) {
	if b.open.Load() == 0 {
		return
	}
	at := b.now()
	b.publish(&event{
		kind: eventLane, terminal: terminal,
		value: func() any { return laneEvent{Terminal: terminal, State: string(state), Timestamp: formatTime(at)} },
	})
}

type terminalEvent struct {
	Terminal  string `json:"terminal"`
	State     string `json:"state"`
	Previous  string `json:"previous"`
	Healthy   bool   `json:"healthy"`
	Timestamp string `json:"timestamp"`
}

// terminalChanged publishes a terminal's new connection state.
func (b *Events) terminalChanged(terminal string, from, to automation.State) {
	at := b.now()
	b.publish(&event{
		kind: eventTerminal, terminal: terminal,
		value: func() any {
			return terminalEvent{Terminal: terminal, State: string(to), Previous: string(from), Healthy: to.Healthy(), Timestamp: formatTime(at)}
		},
	})
}

// venueEvent is what a venue reported, as /events shows it.
type venueEvent struct {
	Terminal  string `json:"terminal"`
	Kind      string `json:"kind"`
	Data      any    `json:"data"`
	Timestamp string `json:"timestamp"`
}

// Venue publishes what a terminal's venue reported on its own (order
// updates, fills); drivers get it as automation.Env.Publish. It never
// blocks.
func (b *Events) Venue(ev automation.VenueEvent) {
	if b.open.Load() == 0 {
		return
	}
	at := ev.At
	if at.IsZero() {
		at = b.now()
	}
	b.publish(&event{
		kind: eventVenue, terminal: ev.Terminal,
		value: func() any {
			return venueEvent{Terminal: ev.Terminal, Kind: ev.Kind, Data: ev.Data, Timestamp: formatTime(at)}
		},
	})
}

// terminalWatcher notices the terminals' state changes: drivers report
// their state when asked, they do not call back.
type terminalWatcher struct {
	terminals map[string]automation.Terminal
	order     []string
	last      map[string]automation.State
	events    *Events
	log       *slog.Logger
}

func newTerminalWatcher(terminals map[string]automation.Terminal, order []string, events *Events, log *slog.Logger) *terminalWatcher {
	w := &terminalWatcher{terminals: terminals, order: order, last: make(map[string]automation.State), events: events, log: log}
	for _, name := range order {
		w.last[name] = terminals[name].State()
	}
	return w
}

// poll looks at every terminal once and publishes what changed.
func (w *terminalWatcher) poll() {
	for _, name := range w.order {
		now := w.terminals[name].State()
		before := w.last[name]
		if now == before {
			continue
		}
		w.last[name] = now
		level := slog.LevelInfo
		if !now.Healthy() {
			level = slog.LevelWarn
		}
		w.log.Log(context.Background(), level, "terminal state changed", "terminal", name, "from", string(before), "to", string(now))
		w.events.terminalChanged(name, before, now)
	}
}
