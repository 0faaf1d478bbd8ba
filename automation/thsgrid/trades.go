package thsgrid

// Trade is one row of today's fills (当日成交).
type Trade struct {
	ContractNo string
	Code       string
	Price      float64
	Quantity   int64
}

var colTradePrice = []string{"成交价格", "成交均价", "成交价"}

// Trades reads the rows of today's fills; rows that cannot be read are
// left out (a fill table only completes prices).
func Trades(rows []Row) []Trade {
	out := make([]Trade, 0, len(rows))
	for _, r := range rows {
		rd := newReader(r)
		tr := Trade{
			ContractNo: rd.str(colContract...),
			Code:       rd.code(colCode...),
			Price:      rd.num(colTradePrice...),
			Quantity:   rd.count(colFilled...),
		}
		if rd.err == nil && tr.ContractNo != "" {
			out = append(out, tr)
		}
	}
	return out
}
