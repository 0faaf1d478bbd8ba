package server

import (
	"encoding/json"
	"testing"
	"time"
)

func TestDecodeNotBefore(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		raw    string
		want   time.Time
		reason bool
	}{
		{`"2026-12-02T14:55:00+08:00"`, time.Date(2026, 12, 2, 6, 55, 0, 0, time.UTC), false},
		{`"2026-12-02T06:55:00.5Z"`, time.Date(2026, 12, 2, 6, 55, 0, 5e8, time.UTC), false},
		{`90`, now.Add(90 * time.Second), false},
		{`0.5`, now.Add(500 * time.Millisecond), false},
		{`-1`, time.Time{}, true},
		{`604801`, time.Time{}, true},
		{`"14:55"`, time.Time{}, true},
		{`"90"`, time.Time{}, true},
		{`true`, time.Time{}, true},
	} {
		at, in, reason := decodeNotBefore(json.RawMessage(tt.raw))
		if (reason != "") != tt.reason {
			t.Errorf("%s: reason %q", tt.raw, reason)
			continue
		}
		if tt.reason {
			continue
		}
		got, fe := notBeforeOf(submitBody{notBefore: at, notBeforeIn: in}, now)
		if fe != nil || !got.Equal(tt.want) {
			t.Errorf("%s: %v %v; want %v", tt.raw, got, fe, tt.want)
		}
	}
	if _, fe := notBeforeOf(submitBody{notBefore: now.Add(8 * 24 * time.Hour)}, now); fe == nil || fe.Field != "not_before" {
		t.Errorf("8 days ahead: %v", fe)
	}
}

func FuzzDecodeNotBefore(f *testing.F) {
	for _, s := range []string{`"2026-12-02T14:55:00+08:00"`, `90`, `1e308`, `"9999-12-31T23:59:59Z"`, `null`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		body := `{"not_before": ` + raw + `}`
		if !json.Valid([]byte(body)) {
			return
		}
		b, errs, err := decodeSubmit([]byte(body))
		if err != nil || len(errs) > 0 {
			return
		}
		now := time.Now()
		at, fe := notBeforeOf(b, now)
		if fe == nil && at.After(now.Add(maxNotBefore)) {
			t.Fatalf("accepted not_before %v, more than 7 days ahead", at)
		}
	})
}
