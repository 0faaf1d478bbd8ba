package plugins

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/brokerd/brokerd/automation"
)

func TestRegistryHasEveryOperationOfItsSets(t *testing.T) {
	if got := NewRegistry(StockSet()).Names(); !slices.Equal(got, automation.StockOperations) {
		t.Fatalf("stock set: Names() = %v, want %v", got, automation.StockOperations)
	}
	if got := NewRegistry(ExchangeSet()).Names(); !slices.Equal(got, automation.ExchangeOperations) {
		t.Fatalf("exchange set: Names() = %v, want %v", got, automation.ExchangeOperations)
	}
	r := NewRegistry(StockSet(), ExchangeSet())
	if want := slices.Concat(automation.StockOperations, automation.ExchangeOperations); !slices.Equal(r.Names(), want) {
		t.Fatalf("Names() = %v, want %v", r.Names(), want)
	}
	names := r.Names()
	names[0] = "changed"
	if r.Names()[0] != automation.OpBuy {
		t.Error("Names() hands out the registry's own slice")
	}
	for _, name := range automation.StockOperations {
		p, ok := r.Lookup(name)
		if !ok || p.Name != name || p.Execute == nil || p.Title == "" || p.Description == "" || p.DescriptionEn == "" || p.Version == "" {
			t.Errorf("%s: incomplete plugin %+v", name, p)
		}
	}
	if _, ok := r.Lookup("transfer"); ok {
		t.Error("Lookup(transfer) found a plugin")
	}
}

// The schemas are data: check they are coherent, so that a typo in one is
// caught here rather than by a trader.
func TestSchemasAreCoherent(t *testing.T) {
	r := NewRegistry(StockSet(), ExchangeSet())
	sideEffects := []string{
		automation.OpBuy, automation.OpSell, automation.OpMarketBuy, automation.OpMarketSell, automation.OpOrderCancel,
		automation.OpReverseRepoBuy, automation.OpConditionBuy, automation.OpStopLossProfit, automation.OpConditionOrderCancel,
		automation.OpPlaceOrder, automation.OpCancelOrder, automation.OpClosePosition,
	}
	for _, name := range r.Names() {
		p, _ := r.Lookup(name)
		if p.SideEffect != slices.Contains(sideEffects, name) {
			t.Errorf("%s: SideEffect = %v", name, p.SideEffect)
		}
		seen := map[string]bool{}
		for _, q := range p.Params {
			if seen[q.Name] {
				t.Errorf("%s.%s declared twice", name, q.Name)
			}
			seen[q.Name] = true
			if !slices.Contains([]string{TypeString, TypeInteger, TypeNumber, TypeBoolean, TypeDecimal}, q.Type) {
				t.Errorf("%s.%s: type %q", name, q.Name, q.Type)
			}
			if q.Description == "" || q.DescriptionEn == "" || q.Example == nil {
				t.Errorf("%s.%s: missing description or example", name, q.Name)
			}
			if q.Required && q.Default != nil {
				t.Errorf("%s.%s: required with a default", name, q.Name)
			}
			if q.Type == TypeInteger && q.MultipleOf != 0 && q.MultipleOf != float64(int64(q.MultipleOf)) {
				t.Errorf("%s.%s: integer multiple_of %v", name, q.Name, q.MultipleOf)
			}
			// The example and the default each pass the parameter alone.
			for what, v := range map[string]any{"example": q.Example, "default": q.Default} {
				if v == nil {
					continue
				}
				raw, _ := json.Marshal(v)
				if _, _, reason := q.read(raw, true); reason != "" {
					t.Errorf("%s.%s: %s %s is invalid: %s", name, q.Name, what, raw, reason)
				}
			}
		}
		// The plugin's example is a valid request that changes nothing when
		// normalized but its defaults.
		raw, _ := json.Marshal(p.Example)
		params, errs := p.Validate(raw)
		if errs != nil {
			t.Errorf("%s: example %s is invalid: %v", name, raw, errs)
			continue
		}
		for k, v := range p.Example {
			if got, _ := json.Marshal(params[k]); string(got) != mustJSON(v) {
				t.Errorf("%s: example %s=%s normalized to %s", name, k, mustJSON(v), got)
			}
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// GET /api/v1/operations/ lists operations in EasyTHS's shape.
func TestDescribeIsEasyTHSShaped(t *testing.T) {
	r := NewRegistry(StockSet())
	all := r.Describe()
	if len(all) != 15 {
		t.Fatalf("Describe() has %d operations, want 15", len(all))
	}
	encoded, err := json.Marshal(map[string]any{"operations": all, "count": len(all)})
	if err != nil {
		t.Fatal(err)
	}
	var listing struct {
		Operations map[string]struct {
			Name        string `json:"name"`
			Version     string `json:"version"`
			Description string `json:"description"`
			Parameters  map[string]struct {
				Type        string `json:"type"`
				Required    bool   `json:"required"`
				Description string `json:"description"`
				Default     any    `json:"default"`
				Enum        []any  `json:"enum"`
			} `json:"parameters"`
			ParameterOrder []string       `json:"parameter_order"`
			Example        map[string]any `json:"example"`
		} `json:"operations"`
		Count int `json:"count"`
	}
	if err := json.Unmarshal(encoded, &listing); err != nil {
		t.Fatal(err)
	}
	buy := listing.Operations["buy"]
	if buy.Name != "BuyOperation" || buy.Version != "1.0.0" || buy.Description != "买入股票操作" || listing.Count != 15 {
		t.Errorf("buy = %+v", buy)
	}
	code := buy.Parameters["stock_code"]
	if code.Type != "string" || !code.Required || code.Description != "股票代码(6位数字)" {
		t.Errorf("buy.stock_code = %+v", code)
	}
	if !slices.Equal(buy.ParameterOrder, []string{"stock_code", "price", "quantity"}) {
		t.Errorf("buy parameter_order = %v", buy.ParameterOrder)
	}
	if q := buy.Parameters["quantity"]; q.Type != "integer" || !strings.Contains(q.Description, "100的倍数") {
		t.Errorf("buy.quantity = %+v", q)
	}
	if e := listing.Operations["condition_buy"].Parameters["expire_days"]; e.Default != 30.0 || len(e.Enum) != 6 {
		t.Errorf("condition_buy.expire_days = %+v", e)
	}
	if got := listing.Operations["funds_query"]; len(got.Parameters) != 0 || got.Example == nil {
		t.Errorf("funds_query = %+v", got)
	}
}

func TestDescribeHandsOutCopies(t *testing.T) {
	r := NewRegistry(StockSet(), ExchangeSet())
	d := r.Describe()["condition_buy"]
	d.Parameters["expire_days"].Enum[0] = 99
	*d.Parameters["target_price"].Minimum = 5
	d.Example["quantity"] = 1
	if _, errs, _ := r.Validate("condition_buy", json.RawMessage(`{"stock_code":"600000","target_price":1,"quantity":100,"expire_days":1}`), nil); errs != nil {
		t.Errorf("changing a description changed the schema: %v", errs)
	}
	if r.Describe()["condition_buy"].Example["quantity"] != 100 {
		t.Error("changing a description changed the example")
	}
}
