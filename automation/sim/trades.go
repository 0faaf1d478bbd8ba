package sim

import (
	"context"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// trade is one fill (成交) with what it cost.
type trade struct {
	ContractNo string          `json:"contract_no"`
	Code       string          `json:"code"`
	Side       automation.Side `json:"side"`
	Price      int64           `json:"price_milli"`
	Quantity   int64           `json:"quantity"`
	Amount     int64           `json:"amount_cents"`
	Fees       fees            `json:"fees"`
	At         time.Time       `json:"at"`
}

// Trade is one fill as the sim's 成交查询 shows it, fees itemised.
type Trade struct {
	Date        string          `json:"成交日期"`
	Time        string          `json:"成交时间"`
	Code        string          `json:"证券代码"`
	Name        string          `json:"证券名称"`
	Side        automation.Side `json:"操作"`
	Price       float64         `json:"成交价格"`
	Quantity    int64           `json:"成交数量"`
	Amount      float64         `json:"成交金额"`
	Commission  float64         `json:"手续费"`
	StampDuty   float64         `json:"印花税"`
	TransferFee float64         `json:"过户费"`
	// Net is the change of cash: negative for a buy.
	Net        float64 `json:"发生金额"`
	ContractNo string  `json:"合同编号"`
	Market     string  `json:"交易市场"`
}

func (tr *trade) view() Trade {
	in, _ := classify(tr.Code)
	net := tr.Amount - tr.Fees.total()
	if tr.Side == automation.Buy {
		net = -(tr.Amount + tr.Fees.total())
	}
	at := tr.At.In(shanghai)
	return Trade{
		Date:        at.Format("20060102"),
		Time:        at.Format("15:04:05"),
		Code:        tr.Code,
		Name:        in.name(),
		Side:        tr.Side,
		Price:       milliFloat(tr.Price),
		Quantity:    tr.Quantity,
		Amount:      centsFloat(tr.Amount),
		Commission:  centsFloat(tr.Fees.Commission),
		StampDuty:   centsFloat(tr.Fees.StampDuty),
		TransferFee: centsFloat(tr.Fees.TransferFee),
		Net:         centsFloat(net),
		ContractNo:  tr.ContractNo,
		Market:      in.market,
	}
}

// tradesView lists the fills since since, from the archive, where every
// fill goes with the save of the action that made it. The caller has saved
// the fills (see run).
func (t *Terminal) tradesView(ctx context.Context, since time.Time, code string) ([]Trade, error) {
	fills, err := archived[trade](ctx, t, kindTrade, dayOf(since))
	if err != nil {
		return nil, err
	}
	out := []Trade{}
	for _, tr := range fills {
		if !tr.At.Before(since) && (code == "" || tr.Code == code) {
			out = append(out, tr.view())
		}
	}
	return out, nil
}
