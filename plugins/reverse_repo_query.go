package plugins

import (
	"context"

	"github.com/brokerd/brokerd/automation"
)

// ReverseRepoQueryResult is the data of reverse_repo_query: the rows carry
// 市场类型, 时间类型 and 年化利率 ("2.50%") as the seed shows, plus the
// repo's 证券代码.
type ReverseRepoQueryResult struct {
	ReverseRepoInterest []automation.RepoRate `json:"reverse_repo_interest"`
	Timestamp           string                `json:"timestamp"`
	Success             bool                  `json:"success"`
	Message             string                `json:"message"`
}

// reverse_repo_query lists the reverse repo rates.
func reverseRepoQueryPlugin() *Plugin {
	return onStockBroker(Plugin{
		Name:          automation.OpReverseRepoQuery,
		Title:         "ReverseRepoQueryOperation",
		Description:   "国债逆回购年化利率查询",
		DescriptionEn: "list the annualised treasury reverse repo rates by market and term",
		Example:       map[string]any{},
	}, queryRepoRates)
}

func queryRepoRates(ctx context.Context, b automation.StockBroker, c Call) (Result, error) {
	rates, err := b.RepoRates(ctx)
	if err != nil {
		return Result{}, err
	}
	if rates == nil {
		rates = []automation.RepoRate{}
	}
	data := ReverseRepoQueryResult{
		ReverseRepoInterest: rates, Timestamp: timestamp(c.Now), Success: true,
		Message: "查询国债逆回购年化利率成功",
	}
	return Result{Data: data, Message: data.Message}, nil
}
