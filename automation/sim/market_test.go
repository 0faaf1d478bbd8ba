package sim

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestCalendar(t *testing.T) {
	tests := []struct {
		when       string
		trading    bool
		minute     int
		pointDay   string
		pointMin   int
		nextTrades string
	}{
		{"2026-01-05 08:00", true, 0, "2026-01-05", 0, "2026-01-06"},     // Monday before the open
		{"2026-01-05 09:30", true, 0, "2026-01-05", 0, "2026-01-06"},     // the open
		{"2026-01-05 09:31", true, 1, "2026-01-05", 1, "2026-01-06"},     //
		{"2026-01-05 11:29", true, 119, "2026-01-05", 119, "2026-01-06"}, //
		{"2026-01-05 12:00", true, 120, "2026-01-05", 120, "2026-01-06"}, // lunch: the morning close
		{"2026-01-05 13:01", true, 121, "2026-01-05", 121, "2026-01-06"}, //
		{"2026-01-05 14:59", true, 239, "2026-01-05", 239, "2026-01-06"}, //
		{"2026-01-05 15:00", true, 240, "2026-01-05", 240, "2026-01-06"}, // the close
		{"2026-01-05 23:59", true, 240, "2026-01-05", 240, "2026-01-06"}, //
		{"2026-01-09 10:00", true, 30, "2026-01-09", 30, "2026-01-12"},   // Friday → Monday
		{"2026-01-10 10:00", false, 30, "2026-01-09", 240, "2026-01-12"}, // Saturday: Friday's close
		{"2026-01-11 10:00", false, 30, "2026-01-09", 240, "2026-01-12"}, // Sunday
	}
	for _, tt := range tests {
		t.Run(tt.when, func(t *testing.T) {
			tm := at(tt.when)
			d := dayOf(tm)
			if got := d.String(); got != tt.when[:10] {
				t.Errorf("dayOf = %s", got)
			}
			if d.trading() != tt.trading {
				t.Errorf("trading = %v", d.trading())
			}
			if got := sessionMinute(tm); got != tt.minute {
				t.Errorf("sessionMinute = %d, want %d", got, tt.minute)
			}
			p := pointOf(tm)
			if p.Day.String() != tt.pointDay || p.Minute != tt.pointMin {
				t.Errorf("pointOf = %s/%d, want %s/%d", p.Day, p.Minute, tt.pointDay, tt.pointMin)
			}
			if got := d.nextTrading().String(); got != tt.nextTrades {
				t.Errorf("nextTrading = %s, want %s", got, tt.nextTrades)
			}
		})
	}
	// Midnight in Shanghai is 16:00 UTC of the day before.
	if got := dayOf(time.Date(2026, 1, 4, 16, 0, 0, 0, time.UTC)).String(); got != "2026-01-05" {
		t.Errorf("dayOf(16:00 UTC) = %s, want the next Shanghai date", got)
	}
	for k := 0; k <= sessionMinutes; k++ {
		if got := sessionMinute(minuteTime(dayOf(at("2026-01-05 00:00")), k)); got != k {
			t.Fatalf("sessionMinute(minuteTime(%d)) = %d", k, got)
		}
	}
	var d day
	if err := d.UnmarshalText([]byte("2026-01-05")); err != nil || d.compact() != "20260105" {
		t.Errorf("UnmarshalText = %v, %s", err, d.compact())
	}
	if err := d.UnmarshalText([]byte("05/01/2026")); err == nil {
		t.Error("a bad date was accepted")
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		code     string
		market   string
		percent  int64
		decimals int
		lot      int64
		stock    bool
	}{
		{"600000", marketShanghai, 10, 2, 100, true},
		{"601318", marketShanghai, 10, 2, 100, true},
		{"688981", marketShanghai, 20, 2, 100, true},
		{"510300", marketShanghai, 10, 3, 100, false},
		{"113050", marketShanghai, 20, 3, 10, false},
		{"000001", marketShenzhen, 10, 2, 100, true},
		{"002594", marketShenzhen, 10, 2, 100, true},
		{"300750", marketShenzhen, 20, 2, 100, true},
		{"301236", marketShenzhen, 20, 2, 100, true},
		{"159915", marketShenzhen, 10, 3, 100, false},
		{"123100", marketShenzhen, 20, 3, 10, false},
		{"830799", marketBeijing, 30, 2, 100, true},
		{"430047", marketBeijing, 30, 2, 100, true},
		{"920002", marketBeijing, 30, 2, 100, true},
	}
	for _, tt := range tests {
		in, err := classifyTradable(tt.code)
		if err != nil {
			t.Errorf("%s: %v", tt.code, err)
			continue
		}
		if in.market != tt.market || in.limitPercent() != tt.percent || in.decimals() != tt.decimals ||
			in.lot() != tt.lot || in.stock() != tt.stock {
			t.Errorf("%s: market %s ±%d%% %d decimals lot %d stock %v; want %s ±%d%% %d decimals lot %d stock %v",
				tt.code, in.market, in.limitPercent(), in.decimals(), in.lot(), in.stock(),
				tt.market, tt.percent, tt.decimals, tt.lot, tt.stock)
		}
	}
	for _, bad := range []string{"", "60000", "6000000", "60000a", "200002", "900901", "700001"} {
		if _, err := classifyTradable(bad); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
	for _, repo := range []string{"204001", "131810"} {
		if _, err := classify(repo); err != nil {
			t.Errorf("classify(%s): %v", repo, err)
		}
		if _, err := classifyTradable(repo); err == nil || !strings.Contains(err.Error(), "reverse_repo_buy") {
			t.Errorf("classifyTradable(%s) = %v, want a pointer to reverse_repo_buy", repo, err)
		}
	}
}

func TestBand(t *testing.T) {
	tests := []struct {
		code      string
		prevClose int64
		down, up  int64
	}{
		{"600000", 10_000, 9_000, 11_000},    // main board ±10%
		{"600000", 10_050, 9_050, 11_060},    // 11.055 rounds half up to 11.06, 9.045 to 9.05
		{"000001", 3_330, 3_000, 3_660},      // 2.997 → 3.00, 3.663 → 3.66
		{"300750", 10_000, 8_000, 12_000},    // ChiNext ±20%
		{"301236", 25_550, 20_440, 30_660},   // 20.44, 30.66
		{"688981", 50_000, 40_000, 60_000},   // STAR ±20%
		{"830799", 10_000, 7_000, 13_000},    // Beijing ±30%
		{"430047", 12_340, 8_640, 16_040},    // 8.638 → 8.64, 16.042 → 16.04
		{"510300", 3_456, 3_110, 3_802},      // fund ±10% to 0.001: 3.1104 → 3.110, 3.8016 → 3.802
		{"113050", 120_000, 96_000, 144_000}, // convertible ±20%
		{"600000", 10, 10, 10},               // a 0.01 stock cannot fall below a tick
	}
	for _, tt := range tests {
		in, _ := classify(tt.code)
		down, up := in.band(tt.prevClose)
		if down != tt.down || up != tt.up {
			t.Errorf("%s band(%d) = [%d, %d], want [%d, %d]", tt.code, tt.prevClose, down, up, tt.down, tt.up)
		}
	}
}

func TestParsePrice(t *testing.T) {
	tests := []struct {
		code  string
		price float64
		want  int64
		ok    bool
	}{
		{"600000", 10.01, 10_010, true},
		{"600000", 10.015, 0, false}, // 3 decimals on a stock
		{"510300", 3.456, 3_456, true},
		{"510300", 3.4567, 0, false},
		{"600000", 0, 0, false},
		{"600000", -1, 0, false},
		{"600000", 2_000_000, 0, false},
	}
	for _, tt := range tests {
		in, _ := classify(tt.code)
		got, err := in.parsePrice(tt.price)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("%s parsePrice(%v) = %d, %v", tt.code, tt.price, got, err)
		}
	}
}

func TestNamesAndBasePrices(t *testing.T) {
	tests := []struct {
		code   string
		suffix string
		lo, hi int64 // milli
	}{
		{"600000", "", 4_000, 60_000},
		{"688001", "", 15_000, 120_000},
		{"300001", "", 8_000, 90_000},
		{"830001", "", 5_000, 35_000},
		{"510300", "ETF", 800, 5_000},
		{"113050", "转债", 100_000, 140_000},
	}
	for _, tt := range tests {
		in, _ := classify(tt.code)
		name := in.name()
		if name != in.name() {
			t.Errorf("%s: name is not deterministic", tt.code)
		}
		if n := utf8.RuneCountInString(name); n < 4 || !strings.HasSuffix(name, tt.suffix) {
			t.Errorf("%s: implausible name %q", tt.code, name)
		}
		if p := in.basePrice(); p < tt.lo || p > tt.hi || p%in.tick() != 0 {
			t.Errorf("%s: base price %d outside [%d, %d] or off the tick", tt.code, p, tt.lo, tt.hi)
		}
	}
	a, _ := classify("600000")
	b, _ := classify("600001")
	if a.name() == b.name() && a.basePrice() == b.basePrice() {
		t.Error("two codes got the same name and price")
	}
}

func TestMoney(t *testing.T) {
	tests := []struct {
		a, b, d            int64
		round, floor, ceil int64
	}{
		{10, 25, 100, 3, 2, 3}, // 2.5 → 3 (half away from zero)
		{10, 24, 100, 2, 2, 3}, // 2.4
		{10, 26, 100, 3, 2, 3}, // 2.6
		{7, 3, 7, 3, 3, 3},     // exact
		{1 << 62, 1 << 20, 1 << 30, 1 << 52, 1 << 52, 1 << 52}, // the product needs 128 bits
	}
	for _, tt := range tests {
		if got := mulDivRound(tt.a, tt.b, tt.d); got != tt.round {
			t.Errorf("mulDivRound(%d,%d,%d) = %d, want %d", tt.a, tt.b, tt.d, got, tt.round)
		}
		if got := mulDivFloor(tt.a, tt.b, tt.d); got != tt.floor {
			t.Errorf("mulDivFloor(%d,%d,%d) = %d, want %d", tt.a, tt.b, tt.d, got, tt.floor)
		}
		if got := mulDivCeil(tt.a, tt.b, tt.d); got != tt.ceil {
			t.Errorf("mulDivCeil(%d,%d,%d) = %d, want %d", tt.a, tt.b, tt.d, got, tt.ceil)
		}
	}
	for c, want := range map[int64]string{0: "0.00", 5: "0.05", 1_000_510: "10005.10", -12: "-0.12"} {
		if got := yuan(c); got != want {
			t.Errorf("yuan(%d) = %s, want %s", c, got, want)
		}
	}
	if got := amountCents(3_456, 10_000); got != 3_456_000 {
		t.Errorf("amount of 10000 @ 3.456 = %d cents", got)
	}
	if got := amountCents(1_005, 1); got != 101 { // 1.005 yuan → 1.01 (half away)
		t.Errorf("amount of 1 @ 1.005 = %d cents, want 101", got)
	}
}

func TestFees(t *testing.T) {
	s := DefaultOptions().fees()
	stock, _ := classify("600000")
	etf, _ := classify("510300")
	tests := []struct {
		name   string
		in     instrument
		sell   bool
		amount int64 // cents
		want   fees
	}{
		{"small buy pays the minimum", stock, false, 1_000_000, fees{Commission: 500, TransferFee: 10}},
		{"small sell: minimum and stamp duty", stock, true, 1_100_000, fees{Commission: 500, StampDuty: 550, TransferFee: 11}},
		{"large buy pays the rate", stock, false, 123_400_000, fees{Commission: 30_850, TransferFee: 1_234}},
		{"commission half a cent rounds up", stock, false, 3_002_000, fees{Commission: 751, TransferFee: 30}},
		{"stamp duty half a cent rounds up", stock, true, 3_001_000, fees{Commission: 750, StampDuty: 1_501, TransferFee: 30}},
		{"ETF pays commission only", etf, true, 3_456_000, fees{Commission: 864}},
	}
	for _, tt := range tests {
		if got := s.of(tt.in, tt.sell, tt.amount); got != tt.want {
			t.Errorf("%s: fees of %s = %+v, want %+v", tt.name, yuan(tt.amount), got, tt.want)
		}
	}
}
