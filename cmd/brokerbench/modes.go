package main

import (
	"context"
	"sync/atomic"
	"time"
)

// The load modes. Each request of a mode is what its latency measures.

// waitFor is the ?wait= of a round trip: long enough never to be reached
// on an idle lane, so that an answer without the result is an error.
const waitFor = 30 * time.Second

// submitLoad: POST /operations/{op}, acknowledged once durable. Each
// request takes the next of bodies in turn (one per terminal).
func submitLoad(name string, t *target, o options, bodies ...[]byte) load {
	var next atomic.Uint64
	return load{Name: name, Clients: o.clients, Duration: o.duration, Requests: o.requests,
		Do: func(ctx context.Context, _ int) error {
			body := bodies[(next.Add(1)-1)%uint64(len(bodies))]
			_, err := t.api.submit(ctx, o.op, body, 0)
			return err
		}}
}

// waitLoad: POST /operations/{op}?wait=30, answered with the result.
func waitLoad(name string, t *target, o options, body []byte) load {
	return load{Name: name, Clients: o.clients, Duration: o.duration, Requests: o.requests,
		Do: func(ctx context.Context, _ int) error {
			_, err := t.api.submit(ctx, o.op, body, waitFor)
			return err
		}}
}

// resultLoad: POST /operations/{op}, then GET /operations/{id}/result.
func resultLoad(name string, t *target, o options, body []byte) load {
	return load{Name: name, Clients: o.clients, Duration: o.duration, Requests: o.requests,
		Do: func(ctx context.Context, _ int) error {
			s, err := t.api.submit(ctx, o.op, body, 0)
			if err != nil {
				return err
			}
			return t.api.result(ctx, s.OperationID)
		}}
}
