package automation

import (
	"encoding/json"
	"testing"
)

func TestExtraInline(t *testing.T) {
	type alias Order
	o := Order{ContractNo: "1", Code: "000001"}
	want, _ := json.Marshal(alias(o))
	got, _ := json.Marshal(o)
	if string(got) != string(want) {
		t.Errorf("without extras the JSON changed:\n%s\n%s", got, want)
	}
	o.Extra = OrderExtra(map[string]any{"股东代码": "A1", "证券代码": "clobbered?", "z": 1})
	got, _ = json.Marshal(o)
	var back map[string]any
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	if back["股东代码"] != "A1" || back["证券代码"] != "000001" || back["z"] != 1.0 {
		t.Errorf("%s", got)
	}
	p := Position{Code: "600000", Extra: PositionExtra(map[string]any{"证券代码": "x"})}
	if p.Extra != "" {
		t.Errorf("a field's key kept as extra: %s", p.Extra)
	}
}
