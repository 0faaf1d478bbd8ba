package binance

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/brokerd/brokerd/automation"
)

// Assets is v2/account.balance.
func (t *Terminal) Assets(ctx context.Context) ([]automation.Asset, error) {
	a, err := t.query(ctx, "v2/account.balance", params{}, signed)
	if err != nil {
		return nil, err
	}
	return decodeBalances(a.Result)
}

func decodeBalances(b []byte) ([]automation.Asset, error) {
	var rows []struct {
		Asset            string `json:"asset"`
		Balance          dec    `json:"balance"`
		AvailableBalance dec    `json:"availableBalance"`
		CrossUnPnl       dec    `json:"crossUnPnl"`
	}
	if err := json.Unmarshal(b, &rows); err != nil {
		return nil, fmt.Errorf("decode account.balance: %w", err)
	}
	out := make([]automation.Asset, 0, len(rows))
	for _, r := range rows {
		out = append(out, automation.Asset{Asset: r.Asset, Balance: r.Balance.Decimal, Available: r.AvailableBalance.Decimal, UnrealizedPnL: r.CrossUnPnl.Decimal})
	}
	return out, nil
}

// Positions is account.position (v1: it answers the leverage too), less
// the empty positions.
func (t *Terminal) Positions(ctx context.Context, symbol string) ([]automation.ExchangePosition, error) {
	p := params{}
	if symbol != "" {
		p["symbol"] = symbol
	}
	a, err := t.query(ctx, "account.position", p, signed)
	if err != nil {
		return nil, err
	}
	return decodePositions(a.Result)
}

func decodePositions(b []byte) ([]automation.ExchangePosition, error) {
	var rows []struct {
		Symbol           string `json:"symbol"`
		PositionSide     string `json:"positionSide"`
		PositionAmt      dec    `json:"positionAmt"`
		EntryPrice       dec    `json:"entryPrice"`
		MarkPrice        dec    `json:"markPrice"`
		UnRealizedProfit dec    `json:"unRealizedProfit"`
		Leverage         dec    `json:"leverage"`
		LiquidationPrice dec    `json:"liquidationPrice"`
	}
	if err := json.Unmarshal(b, &rows); err != nil {
		return nil, fmt.Errorf("decode account.position: %w", err)
	}
	out := []automation.ExchangePosition{}
	for _, r := range rows {
		if r.PositionAmt.IsZero() {
			continue
		}
		out = append(out, automation.ExchangePosition{
			Symbol: r.Symbol, PositionSide: automation.PositionSide(r.PositionSide), Quantity: r.PositionAmt.Decimal,
			EntryPrice: r.EntryPrice.Decimal, MarkPrice: r.MarkPrice.Decimal, UnrealizedPnL: r.UnRealizedProfit.Decimal,
			Leverage: r.Leverage.Decimal, LiquidationPrice: r.LiquidationPrice.Decimal,
		})
	}
	return out, nil
}

// SymbolInfo answers from the rules read at connect; a symbol they do not
// name is read again from exchangeInfo (a listing since), then refused.
func (t *Terminal) SymbolInfo(ctx context.Context, symbol string) (automation.SymbolInfo, error) {
	if si, ok := t.CachedSymbol(symbol); ok {
		return si, nil
	}
	symbols, _, err := t.rest.symbols(ctx)
	if err != nil {
		return automation.SymbolInfo{}, automation.NotConnected("binance symbol rules: %v", err)
	}
	t.mu.Lock()
	t.symbols = symbols
	t.mu.Unlock()
	si, ok := symbols[symbol]
	if !ok {
		return automation.SymbolInfo{}, automation.VenueError(automation.CodeRejected, "-1121", "Invalid symbol.")
	}
	return si, nil
}

// ClosePosition closes (part of) a position with a MARKET order on the
// other side: reduceOnly in one-way mode (position side BOTH: LONG closes
// a positive amount, SHORT a negative one), the position's own side in
// hedge mode (where Binance refuses reduceOnly). The order goes through
// PlaceOrder: never sent twice, a lost answer settled.
func (t *Terminal) ClosePosition(ctx context.Context, req automation.ClosePositionRequest) (automation.ExchangeOrder, error) {
	if req.PositionSide != automation.PositionLong && req.PositionSide != automation.PositionShort {
		return automation.ExchangeOrder{}, automation.Rejected("position_side must be LONG or SHORT, got %q", req.PositionSide)
	}
	positions, err := t.Positions(ctx, req.Symbol)
	if err != nil {
		return automation.ExchangeOrder{}, err
	}
	var held *automation.ExchangePosition
	for i, p := range positions {
		oneWay := p.PositionSide == automation.PositionBoth &&
			((req.PositionSide == automation.PositionLong && p.Quantity.IsPositive()) || (req.PositionSide == automation.PositionShort && p.Quantity.IsNegative()))
		if p.Symbol == req.Symbol && (p.PositionSide == req.PositionSide || oneWay) {
			held = &positions[i]
			break
		}
	}
	if held == nil {
		return automation.ExchangeOrder{}, automation.Rejected("no %s position in %s to close", req.PositionSide, req.Symbol)
	}
	qty := held.Quantity.Abs()
	if req.Quantity.IsPositive() {
		if req.Quantity.GreaterThan(qty) {
			return automation.ExchangeOrder{}, automation.Rejected("closes %s but the %s position in %s is %s", req.Quantity, req.PositionSide, req.Symbol, qty)
		}
		qty = req.Quantity
	}
	order := automation.PlaceOrderRequest{
		Symbol: req.Symbol, Type: automation.TypeMarket, Quantity: qty,
		Side: automation.SideSell, PositionSide: held.PositionSide, ClientOrderID: req.ClientOrderID,
	}
	if req.PositionSide == automation.PositionShort {
		order.Side = automation.SideBuy
	}
	order.ReduceOnly = held.PositionSide == automation.PositionBoth
	return t.PlaceOrder(ctx, order)
}
