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
	eventReset     = "reset"     // the Last-Event-ID given is no longer kept: refetch the state
)

// replayBuffer is how many of the latest events are kept for clients that
// reconnect with Last-Event-ID.
const replayBuffer = 1024

// subscriberBuffer is how many events a slow client may fall behind before
// events are dropped for it (and it is told).
const subscriberBuffer = 256

// Events fans brokerd's changes out to the /events streams. It is a
// queue.Observer: publishing never blocks, a subscriber whose buffer is full
// loses the event and is told so, and the queue never waits for a client.
type Events struct {
	now func() time.Time
	seq atomic.Uint64
	// open counts the subscriptions, for /system/status.
	open atomic.Int64

	mu   sync.RWMutex
	subs map[*subscription]struct{}
	// recent are the last replayBuffer events, oldest first from
	// recentNext once full, for reconnecting clients (Last-Event-ID).
	recent     []*event
	recentNext int
}

// NewEvents builds an event bus with no subscribers. Its event ids start
// from the time it is built (in microseconds), so that an id a client kept
// from an earlier brokerd process is always older than this one's: it is
// answered with a reset, never with the wrong events.
func NewEvents() *Events {
	b := &Events{now: time.Now, subs: make(map[*subscription]struct{}), recent: make([]*event, 0, replayBuffer)}
	b.seq.Store(uint64(time.Now().UnixMicro()))
	return b
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
	sub, _, _ := b.subscribeAfter(f, 0, false)
	return sub
}

// subscribeAfter subscribes and returns the kept events after lastID that
// match f, in order: together with what the subscription then receives,
// every event after lastID exactly once. complete is false when some of
// them are no longer kept (lastID older than the buffer, or not an id of
// this process): the client must then refetch the state it follows.
func (b *Events) subscribeAfter(f eventFilter, lastID uint64, replay bool) (sub *subscription, missed []*event, complete bool) {
	sub = &subscription{filter: f, ch: make(chan *event, subscriberBuffer)}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.subs[sub] = struct{}{}
	b.open.Add(1)
	if !replay {
		return sub, nil, true
	}
	last := b.seq.Load()
	oldest := last + 1 // the id of the oldest kept event
	if len(b.recent) > 0 {
		oldest = b.recent[b.recentNext%len(b.recent)].id
	}
	if lastID > last || lastID+1 < oldest {
		return sub, nil, false
	}
	for i := range b.recent {
		e := b.recent[(b.recentNext+i)%len(b.recent)]
		if e.id > lastID && f.matches(e) {
			missed = append(missed, e)
		}
	}
	return sub, missed, true
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

// publish numbers e, keeps it for replay and hands it to every matching
// subscriber without waiting for any. Events are kept even while nobody
// listens: a client that lost its connection must find on its return what
// happened meanwhile.
func (b *Events) publish(e *event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e.id = b.seq.Add(1)
	if len(b.recent) < replayBuffer {
		b.recent = append(b.recent, e)
	} else {
		b.recent[b.recentNext] = e
		b.recentNext = (b.recentNext + 1) % replayBuffer
	}
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
	terminals Terminals
	order     []string // the lanes, each with a terminal (New checked)
	last      map[string]automation.State
	events    *Events
	log       *slog.Logger
}

func newTerminalWatcher(terminals Terminals, order []string, events *Events, log *slog.Logger) *terminalWatcher {
	w := &terminalWatcher{terminals: terminals, order: order, last: make(map[string]automation.State), events: events, log: log}
	for _, name := range order {
		w.last[name] = w.state(name)
	}
	return w
}

func (w *terminalWatcher) state(name string) automation.State {
	t, _ := w.terminals.Terminal(name)
	return t.State()
}

// poll looks at every terminal once and publishes what changed.
func (w *terminalWatcher) poll() {
	for _, name := range w.order {
		now := w.state(name)
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
