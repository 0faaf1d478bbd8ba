package queue

// The observers' events leave the queue's lock: a change appends its event
// to q.events under the lock (cheap, and in the order the changes happened)
// and one dispatching goroutine at a time hands them to the Observer
// outside it. A slow observer then delays the events after its own, never
// a lane or a submit. The goroutine lives while there are events: the
// first event after a quiet time starts it, and it ends when it finds none.
//
// An operation's waiters are released by the dispatcher right after the
// observers have seen its final state, so that whoever got the result from
// Wait (a client, then its next request) finds the metrics, the risk
// tallies and the event stream already agreeing with it.

// event is one change for the observers.
type event struct {
	op      Operation // the operation as it changed; unset for a lane's change
	lane    string    // the lane whose state changed; "" for an operation's change
	state   LaneState
	release chan struct{} // closed once delivered (an operation's done), or nil
}

// noteOperation queues op's change for the observers. Called with q.mu held.
func (q *Queue) noteOperation(op Operation) { q.post(event{op: op}) }

// noteFinal queues a final state, and the release of its waiters after
// it. Called with q.mu held.
func (q *Queue) noteFinal(op Operation, done chan struct{}) {
	q.post(event{op: op, release: done})
}

// post queues ev and makes sure a dispatcher runs. Called with q.mu held.
func (q *Queue) post(ev event) {
	q.events = append(q.events, ev)
	if !q.dispatching {
		q.dispatching = true
		go q.dispatch()
	}
}

// dispatch delivers the queued events in order until there are none.
func (q *Queue) dispatch() {
	var batch []event
	for {
		q.mu.Lock()
		batch, q.events = q.events, batch[:0]
		if len(batch) == 0 {
			q.dispatching = false
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
		for i, ev := range batch {
			if ev.lane != "" {
				q.obs.LaneChanged(ev.lane, ev.state)
			} else {
				q.obs.OperationChanged(ev.op)
			}
			if ev.release != nil {
				close(ev.release)
			}
			batch[i] = event{} // let the operation go
		}
	}
}
