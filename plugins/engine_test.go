package plugins

import (
	"encoding/json"
	"strings"
	"testing"
)

// The schema engine's paths the A-share set does not use yet, on a
// synthetic plugin.
func TestEngineGenericParams(t *testing.T) {
	r := &Registry{plugins: map[string]*Plugin{}}
	r.register(&Plugin{
		Name: "synthetic",
		Params: []Param{
			{Name: "flag", Type: TypeBoolean, Default: false},
			{Name: "step", Type: TypeNumber, MultipleOf: 0.5, Maximum: bound(10)},
			{Name: "symbol", Type: TypeString, Pattern: `^[A-Z]{3,10}$`},
			{Name: "odd", Type: "fraction"},
		},
	})
	for _, tc := range []struct {
		raw, want string
		errs      []bad
	}{
		{raw: `{}`, want: `{"flag":false}`},
		{raw: `{"flag":true,"step":"2.5","symbol":"BTCUSDT"}`, want: `{"flag":true,"step":2.5,"symbol":"BTCUSDT"}`},
		{raw: `{"flag":"true"}`, errs: []bad{{"params.flag", "must be true or false, not a string"}}},
		{raw: `{"flag":1}`, errs: []bad{{"params.flag", "not a number"}}},
		{raw: `{"step":0.3}`, errs: []bad{{"params.step", "must be a multiple of 0.5, got 0.3"}}},
		{raw: `{"step":10.5}`, errs: []bad{{"params.step", "must be at most 10, got 10.5"}}},
		{raw: `{"symbol":"btc"}`, errs: []bad{{"params.symbol", `must be text matching ^[A-Z]{3,10}$, got "btc"`}}},
		{raw: `{"symbol":"\u0041\u0042\u0043"}`, want: `{"flag":false,"symbol":"ABC"}`},
		{raw: `{"odd":1}`, errs: []bad{{"params.odd", "unknown schema type fraction"}}},
	} {
		p, _ := r.Lookup("synthetic")
		params, errs := p.Validate(json.RawMessage(tc.raw))
		if tc.errs == nil {
			if errs != nil || string(params.JSON()) != tc.want {
				t.Errorf("%s: got %s %v, want %s", tc.raw, params.JSON(), errs, tc.want)
			}
			continue
		}
		if len(errs) != 1 || errs[0].Field != tc.errs[0].field || !strings.Contains(errs[0].Reason, tc.errs[0].says) {
			t.Errorf("%s: errors %v, want %v", tc.raw, errs, tc.errs)
		}
	}
}

func TestParamsJSONOfAHandMadeMap(t *testing.T) {
	if got := string(Params(nil).JSON()); got != "{}" {
		t.Errorf("nil params = %s", got)
	}
	if got := string((Params{"b": int64(1), "a": "x"}).JSON()); got != `{"a":"x","b":1}` {
		t.Errorf("keys not sorted: %s", got)
	}
	if got := string((Params{"x": func() {}}).JSON()); got != "null" {
		t.Errorf("unencodable params = %s, want null", got)
	}
}
