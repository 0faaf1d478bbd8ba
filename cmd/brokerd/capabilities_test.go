package main

import (
	"github.com/brokerd/brokerd/automation"
	"github.com/brokerd/brokerd/automation/binance"
	"github.com/brokerd/brokerd/automation/paper"
	"github.com/brokerd/brokerd/automation/sim"
	"github.com/brokerd/brokerd/server"
)

// The API finds what a terminal can do beyond automation.Terminal by
// asking it for an interface, at run time: a driver whose method drifted
// from one would quietly lose the endpoint (/sim/quote answering "not a
// simulator"). These hold the drivers that serve them to the interfaces,
// at compile time.
var (
	_ server.StockQuotes   = (*sim.Terminal)(nil)
	_ server.SymbolQuotes  = (*paper.Terminal)(nil)
	_ automation.Throttler = (*binance.Terminal)(nil)
)
