// Package sim is brokerd's embedded simulated A-share broker: a terminal
// (automation.StockBroker) with a cash account, positions, orders, condition
// orders and treasury reverse repos, that needs nothing outside the process.
// It is the default terminal, the paper-trading account, and the real
// driver the queue's timeout, health and reconciliation paths are tested
// against (latency and fault injection).
//
// # The model
//
// Time is the injected sim clock in Shanghai time (UTC+8). Every Monday to
// Friday is a trading day (no holidays), with a continuous session of 240
// minutes, 09:30–11:30 and 13:00–15:00. The state is evaluated lazily: each
// call first replays the time since the last one, minute by minute, so a
// resting order fills and a condition order fires at the minute the price
// crossed, even if nobody was calling; crossing midnight ends the day's
// orders, settles T+1 purchases, pays matured repos and expires condition
// orders.
//
// Prices follow a deterministic process per code: from an anchor (a quote
// from config or SetQuote, else a plausible price hashed from the code at
// the account's first day), the log price moves each session minute by a
// step hashed from (seed, code, day, minute), scaled by the volatility
// option; each price is rounded to the tick (0.01, or 0.001 for codes
// starting 5 or 1) and held inside the limit band around the previous close
// (±10% main board and funds, ±20% 300/301/688 and convertible bonds, ±30%
// Beijing 4/8/92xxxx). The same seed, anchors and clock give the same
// prices; volatility 0 keeps every price at its quote.
//
// Orders: a marketable order (a market order, a buy at or above the price,
// a sell at or below it) fills at once, entirely, at the current price; any
// other limit order freezes its cash (limit × quantity + estimated fees) or
// its shares and rests until the price reaches its limit, where it fills at
// the limit, until it is cancelled, or until the end of its day (A-share
// orders are day orders). Prices outside the band, insufficient cash and
// insufficient sellable shares (T+1: shares bought today sell from the next
// trading day) are rejected with the amounts. Fees are commission (rate with
// a minimum), stamp duty on sells of stocks and the transfer fee on stocks,
// each rounded half away from zero to the cent; all money is kept in integer
// cents and prices in integer thousandths of a yuan.
//
// A client order id (brokerd's idempotency key) names its order for 24
// hours from its placing, as long as brokerd remembers a key: within them a
// retry is answered with that order (from the archive across midnight) and
// another order under the id is rejected; after them the id places a new
// order, which it names from then on.
//
// Condition orders are watched every session minute: condition_buy buys at
// the current price once it is at or below the target; stop_loss_profit
// sells once the price reaches the loss or gain trigger fixed from the cost
// price when it was set, as soon as the position can be sold. A fired
// condition order records the contract number of the order it placed (a
// 废单 with the reason when the account could not pay for it).
//
// A reverse repo freezes its principal (it stays in 资金余额 and leaves
// 可用金额) until the trade day plus its term, moved to the next trading day,
// when it comes back with interest = amount × rate × days / 365, days being
// the natural days from the trade day to that pay day.
//
// With a Ledger the account is saved as JSON after every change, before
// the call returns; a save that fails rolls the change back and the call
// fails, so a restart never shows an order the caller was not told of. The
// saved state holds only what can still change — cash, positions and their
// T+1 lots, open orders, watching condition orders, unpaid repo loans,
// quotes and counters — so that a save costs what the action did, not what
// the day or the year did. A record that finishes (an order filled,
// cancelled or rejected, a trade, an ended condition order, a repaid loan)
// goes to the ledger's archive in the same transaction as the state saved
// by the action that finished it; history queries read it there, and
// today's orders are also kept in memory, rebuilt from the archive on
// loading. A ledger saved by a build that kept finished records in the
// state (versions 1 and 2) is upgraded when it is loaded.
//
// # Simplifications
//
// No holidays, call auctions, opening gaps, order book depth, partial fills
// or trading-hours checks: the sim's market takes orders at any hour, at the
// last price, and the price only moves during the session. Security names
// are invented. The STAR market's 200-share minimum is not enforced. 可取金额
// equals 可用金额. Repo loans pay no fee and do not appear among the
// orders. Finished history is kept for a year (近一年), in the ledger's
// archive or, without a ledger, in memory.
package sim
