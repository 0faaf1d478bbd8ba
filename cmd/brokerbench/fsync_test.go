package main

import (
	"os"
	"testing"
	"time"
)

func TestProbeFsync(t *testing.T) {
	dir := t.TempDir()
	p, err := probeFsync(dir, 5)
	if err != nil {
		t.Fatal(err)
	}
	if p.N != 5 || p.P50 <= 0 || p.P99 < p.P50 || p.Mean <= 0 {
		t.Errorf("probe = %+v", p)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("the probe left %d files in the directory", len(left))
	}
	if _, err := probeFsync(dir+"/missing", 1); err == nil {
		t.Error("a probe in a missing directory did not fail")
	}
}

func TestFsyncsAbove(t *testing.T) {
	for _, tc := range []struct {
		d, floor, fsync int64
		want            float64
	}{
		{1500, 100, 700, 2},
		{100, 100, 700, 0},
		{800, 100, 0, 0},
	} {
		if got := fsyncsAbove(time.Duration(tc.d), time.Duration(tc.floor), time.Duration(tc.fsync)); got != tc.want {
			t.Errorf("fsyncsAbove(%d, %d, %d) = %v, want %v", tc.d, tc.floor, tc.fsync, got, tc.want)
		}
	}
	if !isQuery("funds_query") || isQuery("buy") {
		t.Error("isQuery")
	}
}
