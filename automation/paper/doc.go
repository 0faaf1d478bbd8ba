// Package paper is a paper exchange: an exchange-family terminal
// (automation.Exchange, automation.SymbolRules) that needs nothing outside
// the process, for trying the exchange operations and testing scripts
// against them. It behaves like a Binance USDⓈ-M futures account in
// one-way mode with cross margin: signed positions with an average entry
// price, realised PnL and fees in the symbol's quote asset, unrealised PnL
// at the quote. Every amount is an exact decimal (never float64); where a
// division is needed (an entry price, the cost share of a partial close,
// margin at a leverage above 1) it is rounded to 8 decimals, and a
// position closed in full always realises exactly what its fills made.
//
// # Configuration
//
//	[[terminals]]
//	name = "paper"
//	driver = "paper"
//	[terminals.options]
//	quotes = { BTCUSDT = "65000.00", ETHUSDT = "3500.00" }
//	balances = { USDT = "10000" }      # a new account's wallet (default USDT 10000)
//	leverage = 1                       # 1 to 125 (default 1)
//	taker_fee = "0.0004"               # fraction of the notional (default 0)
//	maker_fee = "0.0002"               # (default 0)
//	latency = "0s"                     # how long each operation takes
//	[terminals.options.symbols.SOLUSDT]  # rules, where the defaults do not fit
//	price_tick = "0.010"
//	quantity_step = "1"
//	min_quantity = "1"
//	min_notional = "5"
//	# base_asset = "SOL"; quote_asset = "USDT"  (default: from the name)
//
// Decimals are strings (exact) or numbers (read back in their shortest
// form, so 65000.1 is 65000.1; strings are advised all the same). Unknown
// keys are errors naming the key.
//
// The symbols listed are those quoted, those of the symbols table, and
// any a quote is later set for. BTCUSDT and ETHUSDT have Binance's rules
// by default (tick 0.10 and 0.01, step and minimum quantity 0.001, minimum
// notional 100 and 20 USDT); any other symbol ending in a known quote asset
// (USDT, USDC, FDUSD, BUSD, BTC, ETH, BNB) has a tick of 0.01, a step and
// minimum of 0.001 and a minimum notional of 5. A quote must be on the
// tick.
//
// balances seed a new account only: once the ledger holds one, it wins,
// and so do its quotes (moved by SetQuote, which brokerd's POST
// /api/v1/sim/quote calls); quotes of symbols new to the options are
// added. The rules, leverage, fees and latency apply at every start.
//
// # Trading
//
// Liquidity is infinite at the quote. A MARKET order, and a LIMIT order
// priced through the quote (a BUY at or above it, a SELL at or below),
// fills in full at the quote as a taker. Any other LIMIT order rests (GTC,
// GTX) or expires at once (IOC, FOK, answered with status EXPIRED). A GTX
// order that would fill at once is rejected. A resting order fills when a
// quote reaches its price, at its price, as a maker, reported as a venue
// event ("fill"). A reduce-only order is rejected unless it only reduces
// the position; resting, it fills only as far as the position still lets
// it, and the rest expires.
//
// Orders are refused as Binance refuses them, with its code in the
// error's venue_code: a price off the tick or a quantity off the step,
// under min_quantity or a notional under min_notional (reduce-only orders
// are exempt from it, as on Binance), a client order id an open order has
// (-2010), insufficient margin (-2019): the initial margin of a position
// is its notional at the quote over the leverage; an open order holds the
// margin of the part of it that would open a position, and of a symbol's
// buys and sells the larger side; available is the wallet balance plus
// the unrealised PnL less both. Nothing is ever liquidated; a position's
// liquidation_price is where the margin balance of its quote asset would
// reach zero.
//
// Client order ids follow Binance's rule (1 to 36 of A-Z a-z 0-9 . : / _
// -); an order placed without one gets "paper-<order id>". Order ids
// increase from 1. An order is answered by order_status and found by its
// client order id while it is open and for 24 hours after it finished; by
// client order id the newest order with it is found.
//
// # Persistence
//
// With a Ledger (brokerd's journal), the account — balances, positions,
// open orders, quotes — is saved after every change, and finished orders
// go to the ledger's archive in the same write, so a restart keeps the
// account and its last day of orders. A save that fails rolls the change
// back and the operation fails: nothing happened. Without a Ledger the
// account lives in memory.
package paper
