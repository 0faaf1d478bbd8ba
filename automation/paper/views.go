package paper

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// Assets lists the balances: every asset with a balance or a position
// quoted in it, by name.
func (t *Terminal) Assets(ctx context.Context) ([]automation.Asset, error) {
	return run(ctx, t, automation.OpAsset, func(time.Time) ([]automation.Asset, error) {
		names := mapsKeys(t.st.Balances)
		for symbol := range t.st.Positions {
			names = append(names, t.rules[symbol].QuoteAsset)
		}
		slices.Sort(names)
		out := []automation.Asset{}
		for _, asset := range slices.Compact(names) {
			unrealised, initial := t.st.margin(asset, t.rules, t.cfg.Leverage)
			balance := t.st.Balances[asset]
			out = append(out, automation.Asset{
				Asset:         asset,
				Balance:       balance,
				Available:     balance.Add(unrealised).Sub(initial),
				UnrealizedPnL: unrealised,
			})
		}
		return out, nil
	})
}

// Positions lists the non-zero positions by symbol, of symbol when given.
func (t *Terminal) Positions(ctx context.Context, symbol string) ([]automation.ExchangePosition, error) {
	return run(ctx, t, automation.OpPosition, func(time.Time) ([]automation.ExchangePosition, error) {
		if symbol != "" {
			if _, err := t.symbol(symbol); err != nil {
				return nil, err
			}
		}
		out := []automation.ExchangePosition{}
		for _, s := range slices.Sorted(maps.Keys(t.st.Positions)) {
			if symbol != "" && s != symbol {
				continue
			}
			p := t.st.Positions[s]
			mark := t.st.mark(s, p)
			out = append(out, automation.ExchangePosition{
				Symbol:           s,
				PositionSide:     automation.PositionBoth,
				Quantity:         p.Quantity,
				EntryPrice:       p.entryPrice(),
				MarkPrice:        mark,
				UnrealizedPnL:    p.unrealised(mark),
				Leverage:         t.cfg.Leverage,
				LiquidationPrice: t.st.liquidationPrice(s, t.rules, t.cfg.Leverage),
			})
		}
		return out, nil
	})
}

// SymbolInfo is a listed symbol's rules.
func (t *Terminal) SymbolInfo(ctx context.Context, symbol string) (automation.SymbolInfo, error) {
	return run(ctx, t, automation.OpSymbolInfo, func(time.Time) (automation.SymbolInfo, error) {
		return t.symbol(symbol)
	})
}

func mapsKeys[V any](m map[string]V) []string { return slices.Collect(maps.Keys(m)) }
