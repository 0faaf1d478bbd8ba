package client

import (
	"reflect"
	"strings"
	"testing"
)

func TestReadEvents(t *testing.T) {
	stream := ": connected to brokerd events\nretry: 3000\n\n" +
		"id: 1\nevent: operation\ndata: {\"status\":\"queued\"}\n\n" +
		": heartbeat\n\n" +
		"id: 2\nevent: lane\ndata: {\"a\":1,\ndata: \"b\":2}\n\n" +
		"event: shutdown\ndata: {}\n\n" +
		"id: 3\nevent: cut\ndata: {}" // no blank line: never complete
	var got []Event
	if err := readEvents(strings.NewReader(stream), func(e Event) bool { got = append(got, e); return true }); err != nil {
		t.Fatal(err)
	}
	want := []Event{
		{ID: "1", Type: "operation", Data: []byte(`{"status":"queued"}`)},
		{ID: "2", Type: "lane", Data: []byte("{\"a\":1,\n\"b\":2}")},
		{Type: "shutdown", Data: []byte(`{}`)},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d events %+v", len(got), got)
	}
	for i := range want {
		if got[i].ID != want[i].ID || got[i].Type != want[i].Type || string(got[i].Data) != string(want[i].Data) {
			t.Errorf("event %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	n := 0
	_ = readEvents(strings.NewReader(stream), func(Event) bool { n++; return false })
	if n != 1 {
		t.Fatalf("emit returned false but got %d events", n)
	}
}

func FuzzReadEvents(f *testing.F) {
	f.Add("id: 1\nevent: operation\ndata: {}\n\n")
	f.Add(": c\n\ndata\n\nevent:\n\n")
	f.Add("data: a\r\ndata: b\n\n")
	f.Fuzz(func(t *testing.T, s string) {
		var first []Event
		_ = readEvents(strings.NewReader(s), func(e Event) bool { first = append(first, e); return true })
		var second []Event
		_ = readEvents(strings.NewReader(s), func(e Event) bool { second = append(second, e); return true })
		if !reflect.DeepEqual(first, second) {
			t.Fatal("parsing is not deterministic")
		}
		for _, e := range first {
			if e.Type == "" {
				t.Fatalf("event without a type: %+v", e)
			}
		}
	})
}
