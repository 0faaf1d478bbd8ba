package sim

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// decode reads a [terminals.options] table the way the config loader does:
// strict, into the defaults.
func decode(t *testing.T, src string) (Options, error) {
	t.Helper()
	opts := DefaultOptions()
	dec := toml.NewDecoder(bytes.NewBufferString(src))
	dec.DisallowUnknownFields()
	err := dec.Decode(&opts)
	return opts, err
}

func TestOptionsFromTOML(t *testing.T) {
	opts, err := decode(t, `
initial_cash = 500000.5
latency = "50ms"
quotes = { "600000" = 10.5, "510300" = 3.456 }
positions = { "600000" = 1000 }
volatility = 0.0
seed = 42
commission_rate = 0.0003
min_commission = 0
stamp_duty_rate = 0.001
transfer_fee_rate = 0.00002
repo_rates = { "204001" = 2.5 }
faults = [{ kind = "stall", operation = "buy", count = 1, duration = "2s" }]
`)
	if err != nil {
		t.Fatal(err)
	}
	if err := opts.Validate(); err != nil {
		t.Fatal(err)
	}
	want := Options{
		InitialCash:     500000.5,
		Latency:         Duration(50 * time.Millisecond),
		Quotes:          map[string]float64{"600000": 10.5, "510300": 3.456},
		Positions:       map[string]int64{"600000": 1000},
		Seed:            42,
		CommissionRate:  0.0003,
		StampDutyRate:   0.001,
		TransferFeeRate: 0.00002,
		RepoRates:       map[string]float64{"204001": 2.5},
		Faults:          []Fault{{Kind: FaultStall, Operation: "buy", Count: 1, Duration: Duration(2 * time.Second)}},
	}
	if !reflect.DeepEqual(opts, want) {
		t.Errorf("decoded\n%+v\nwant\n%+v", opts, want)
	}
	if got := opts.fees(); got != (feeSchedule{commissionRate: 30_000, stampDutyRate: 100_000, transferRate: 2_000}) {
		t.Errorf("fees = %+v", got)
	}

	// The shipped config.toml writes whole numbers.
	opts, err = decode(t, `
initial_cash = 1000000
latency = "0s"
quotes = { "600000" = 10 }
positions = { "600000" = 1000 }
volatility = 0
min_commission = 5
repo_rates = { "131810" = 2 }
`)
	if err != nil || opts.Validate() != nil || opts.InitialCash != 1e6 || opts.Quotes["600000"] != 10 || opts.RepoRates["131810"] != 2 {
		t.Errorf("whole numbers: %+v, %v", opts, err)
	}
	// Absent keys keep their defaults.
	opts, err = decode(t, `latency = "0s"`)
	if err != nil || opts.InitialCash != 1_000_000 || opts.Volatility != 0.02 || opts.MinCommission != 5 {
		t.Errorf("defaults lost: %+v, %v", opts, err)
	}
	// Unknown keys are an error (strict mode sees the tags).
	if _, err := decode(t, `initial_cahs = 5`); err == nil {
		t.Error("a misspelt key was accepted")
	}
	if _, err := decode(t, `latency = "soon"`); err == nil || !strings.Contains(err.Error(), "not a duration") {
		t.Errorf("a bad duration: %v", err)
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Options)
		want   string // in the error; "" = valid
	}{
		{"defaults", func(*Options) {}, ""},
		{"zero cash", func(o *Options) { o.InitialCash = 0 }, ""},
		{"negative cash", func(o *Options) { o.InitialCash = -1 }, "sim option initial_cash"},
		{"fractional cents", func(o *Options) { o.InitialCash = 1.001 }, "sim option initial_cash"},
		{"negative latency", func(o *Options) { o.Latency = Duration(-time.Second) }, "sim option latency: must not be negative"},
		{"bad quote code", func(o *Options) { o.Quotes = map[string]float64{"60000": 1} }, "sim option quotes"},
		{"repo code quoted", func(o *Options) { o.Quotes = map[string]float64{"204001": 1} }, "sim option quotes"},
		{"quote decimals", func(o *Options) { o.Quotes = map[string]float64{"600000": 10.001} }, "sim option quotes: 600000"},
		{"quote zero", func(o *Options) { o.Quotes = map[string]float64{"600000": 0} }, "sim option quotes: 600000"},
		{"position zero", func(o *Options) { o.Positions = map[string]int64{"600000": 0} }, "sim option positions: 600000"},
		{"volatility", func(o *Options) { o.Volatility = 1 }, "sim option volatility"},
		{"commission", func(o *Options) { o.CommissionRate = 0.5 }, "sim option commission_rate"},
		{"stamp duty", func(o *Options) { o.StampDutyRate = -0.1 }, "sim option stamp_duty_rate"},
		{"transfer fee", func(o *Options) { o.TransferFeeRate = 0.01 }, "sim option transfer_fee_rate"},
		{"min commission", func(o *Options) { o.MinCommission = -5 }, "sim option min_commission"},
		{"repo code", func(o *Options) { o.RepoRates = map[string]float64{"204005": 2} }, "sim option repo_rates"},
		{"repo rate", func(o *Options) { o.RepoRates = map[string]float64{"204001": 200} }, "sim option repo_rates: 204001"},
		{"fault kind", func(o *Options) { o.Faults = []Fault{{Kind: "explode"}} }, "sim option faults[0]"},
		{"fault operation", func(o *Options) { o.Faults = []Fault{{Kind: FaultReject, Operation: "by"}} }, "sim option faults[0]"},
		{"stall without duration", func(o *Options) { o.Faults = []Fault{{Kind: FaultStall}} }, "positive duration"},
		{"disconnect with count", func(o *Options) { o.Faults = []Fault{{Kind: FaultDisconnect, Count: 2}} }, "whole terminal"},
		{"negative count", func(o *Options) { o.Faults = []Fault{{Kind: FaultReject, Count: -1}} }, "count"},
		{"message on hang", func(o *Options) { o.Faults = []Fault{{Kind: FaultHang, Message: "x"}} }, "message applies"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := DefaultOptions()
			tt.modify(&o)
			err := o.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
			if tt.want != "" {
				if _, err := New(context.Background(), "sim", o, Deps{}); err == nil {
					t.Fatal("New accepted invalid options")
				}
			}
		})
	}
}
