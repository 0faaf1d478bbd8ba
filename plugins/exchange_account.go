package plugins

import (
	"context"
	"fmt"

	"github.com/brokerd/brokerd/automation"
)

// asset, position and symbol_info: what the account holds and a symbol's
// rules.

// AssetResult is the data of asset.
type AssetResult struct {
	Assets []automation.Asset `json:"assets"`
}

func assetPlugin() *Plugin {
	return onExchange(Plugin{
		Name:          automation.OpAsset,
		Title:         "AssetOperation",
		Description:   "查询资产余额",
		DescriptionEn: "the account's balances: balance, available and unrealized PnL per asset",
		Example:       map[string]any{},
	}, func(ctx context.Context, x automation.Exchange, c Call) (Result, error) {
		assets, err := x.Assets(ctx)
		if err != nil {
			return Result{}, err
		}
		if assets == nil {
			assets = []automation.Asset{}
		}
		return Result{Data: AssetResult{Assets: assets}, Message: fmt.Sprintf("%d assets", len(assets))}, nil
	})
}

// PositionResult is the data of position.
type PositionResult struct {
	Positions []automation.ExchangePosition `json:"positions"`
}

func positionPlugin() *Plugin {
	return onExchange(Plugin{
		Name:          automation.OpPosition,
		Title:         "PositionOperation",
		Description:   "查询持仓",
		DescriptionEn: "the open positions, of one symbol when given; quantity is signed (negative: short)",
		Params:        []Param{symbolParam(false, "only this symbol's positions; all when absent")},
		Example:       map[string]any{"symbol": "BTCUSDT"},
	}, func(ctx context.Context, x automation.Exchange, c Call) (Result, error) {
		positions, err := x.Positions(ctx, c.Params.str("symbol"))
		if err != nil {
			return Result{}, err
		}
		if positions == nil {
			positions = []automation.ExchangePosition{}
		}
		return Result{Data: PositionResult{Positions: positions}, Message: fmt.Sprintf("%d positions", len(positions))}, nil
	})
}

func symbolInfoPlugin() *Plugin {
	return onExchange(Plugin{
		Name:          automation.OpSymbolInfo,
		Title:         "SymbolInfoOperation",
		Description:   "查询交易规则(最小价格变动、数量步长、最小数量、最小名义价值)",
		DescriptionEn: "a symbol's trading rules: price tick, quantity step, minimum quantity and notional",
		Params:        []Param{symbolParam(true, "the symbol")},
		Example:       map[string]any{"symbol": "BTCUSDT"},
	}, func(ctx context.Context, x automation.Exchange, c Call) (Result, error) {
		info, err := x.SymbolInfo(ctx, c.Params.str("symbol"))
		if err != nil {
			return Result{}, err
		}
		return Result{Data: info, Message: fmt.Sprintf("%s: tick %s, step %s, min notional %s", info.Symbol, info.PriceTick, info.QuantityStep, info.MinNotional)}, nil
	})
}
