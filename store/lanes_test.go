package store

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
)

func TestPausedLanesSurviveAReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "journal.db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.PausedLanes(ctx); err != nil || len(got) != 0 {
		t.Fatalf("fresh journal: %v, %v", got, err)
	}
	must(t, s.SetPaused(ctx, "ths", true))
	must(t, s.SetPaused(ctx, "sim", true))
	must(t, s.SetPaused(ctx, "sim", false))
	must(t, s.SetPaused(ctx, "gw", true))
	must(t, s.Close())

	s, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, err := s.PausedLanes(ctx); err != nil || !slices.Equal(got, []string{"gw", "ths"}) {
		t.Errorf("after reopen: %v, %v; want [gw ths]", got, err)
	}
}
