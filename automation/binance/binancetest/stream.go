package binancetest

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/coder/websocket"
)

// streamConn is one user data stream connection (/ws/<listenKey>).
type streamConn struct {
	ws  *websocket.Conn
	out chan []byte
}

func (s *Server) handleStream(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("listenKey")
	s.mu.Lock()
	live := s.listenKeys[key]
	s.mu.Unlock()
	if !live {
		http.Error(w, `{"code":-1125,"msg":"This listenKey does not exist."}`, http.StatusBadRequest)
		return
	}
	ws, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	sc := &streamConn{ws: ws, out: make(chan []byte, 256)}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ws.CloseNow()
		return
	}
	s.streams[sc] = struct{}{}
	s.connWG.Add(1)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.streams, sc)
		s.mu.Unlock()
		ws.CloseNow()
		s.connWG.Done()
	}()
	ctx := ws.CloseRead(r.Context()) // the stream only pushes; reading handles pings and the close
	for {
		select {
		case <-ctx.Done():
			return
		case b := <-sc.out:
			wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := ws.Write(wctx, websocket.MessageText, b)
			cancel()
			if err != nil {
				return
			}
		}
	}
}

// publishLocked pushes ORDER_TRADE_UPDATE for each changed order to every
// stream; a stream too slow to take it loses it. s.mu held.
func (s *Server) publishLocked(orders []*Order, execType string) {
	if len(s.streams) == 0 {
		return
	}
	now := s.nowLocked().UnixMilli()
	for _, o := range orders {
		sym := s.eng.symbols[o.Symbol]
		pp, qp := -sym.Tick.Exponent(), -sym.Step.Exponent()
		x := execType
		if o.Status == "FILLED" {
			x = "TRADE"
		}
		last, lastPrice := "0", "0"
		if x == "TRADE" {
			last, lastPrice = o.Executed.StringFixed(qp), o.AvgPrice.StringFixed(pp)
		}
		b, _ := json.Marshal(map[string]any{
			"e": "ORDER_TRADE_UPDATE", "E": now, "T": now,
			"o": map[string]any{
				"s": o.Symbol, "c": o.ClientOrderID, "S": o.Side, "o": o.Type, "f": o.TimeInForce,
				"q": o.Quantity.StringFixed(qp), "p": o.Price.StringFixed(pp), "ap": o.AvgPrice.StringFixed(pp),
				"sp": "0", "x": x, "X": o.Status, "i": o.ID, "l": last, "z": o.Executed.StringFixed(qp),
				"L": lastPrice, "n": "0", "N": sym.Quote, "T": o.Updated.UnixMilli(), "t": 0, "b": "0", "a": "0",
				"m": false, "R": o.ReduceOnly, "wt": "CONTRACT_PRICE", "ot": o.Type, "ps": o.PositionSide,
				"cp": false, "rp": "0", "pP": false, "si": 0, "ss": 0, "V": "NONE", "pm": "NONE", "gtd": 0,
			},
		})
		for sc := range s.streams {
			select {
			case sc.out <- b:
			default:
			}
		}
	}
}
