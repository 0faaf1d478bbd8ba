package risk

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ChinaTime is Asia/Shanghai, fixed at +08:00 (China has had no daylight
// saving since 1991), so that brokerd needs no tzdata (Windows has none).
var ChinaTime = time.FixedZone("Asia/Shanghai", 8*60*60)

// Session is a span of the day, minutes from midnight: [Start, End).
type Session struct{ Start, End int }

func (s Session) String() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", s.Start/60, s.Start%60, s.End/60, s.End%60)
}

// Hours are when orders may be placed, in ChinaTime.
type Hours struct {
	// Preset is "a_share", "always", "auto" (decided by the terminal's
	// family) or "" for the sessions given.
	Preset   string
	Sessions []Session
	// Weekdays: no trading on Saturdays and Sundays.
	Weekdays bool
}

// AShareHours are the A-share continuous sessions, 09:30–11:30 and
// 13:00–15:00 on weekdays.
func AShareHours() Hours {
	return Hours{Preset: "a_share", Sessions: []Session{{9*60 + 30, 11*60 + 30}, {13 * 60, 15 * 60}}, Weekdays: true}
}

// AlwaysOpen is around the clock, every day.
func AlwaysOpen() Hours { return Hours{Preset: "always"} }

func (h Hours) String() string {
	if h.Preset == "always" {
		return "always open"
	}
	parts := make([]string, len(h.Sessions))
	for i, s := range h.Sessions {
		parts[i] = s.String()
	}
	out := strings.Join(parts, ", ") + " Asia/Shanghai"
	if h.Weekdays {
		out += " on weekdays"
	}
	return out
}

// open reports whether t falls in the hours, given the holidays.
func (h Hours) open(t time.Time, holidays map[string]bool) bool {
	if h.Preset == "always" {
		return !holidays[t.In(ChinaTime).Format(time.DateOnly)]
	}
	t = t.In(ChinaTime)
	if holidays[t.Format(time.DateOnly)] {
		return false
	}
	if h.Weekdays && (t.Weekday() == time.Saturday || t.Weekday() == time.Sunday) {
		return false
	}
	m := t.Hour()*60 + t.Minute()
	for _, s := range h.Sessions {
		if m >= s.Start && m < s.End {
			return true
		}
	}
	return false
}

// parseHours reads trading_hours: "auto", "a_share", "always", or a list of
// sessions "HH:MM-HH:MM" (weekdays unless trading_days says every_day).
func parseHours(v any) (*Hours, error) {
	switch x := v.(type) {
	case string:
		switch x {
		case "auto":
			return &Hours{Preset: "auto"}, nil
		case "a_share":
			h := AShareHours()
			return &h, nil
		case "always":
			h := AlwaysOpen()
			return &h, nil
		}
	case []any:
		h := &Hours{Weekdays: true}
		for _, item := range x {
			s, ok := item.(string)
			if !ok {
				return nil, errors.New(`sessions must be strings such as "09:30-11:30"`)
			}
			sess, err := parseSession(s)
			if err != nil {
				return nil, err
			}
			h.Sessions = append(h.Sessions, sess)
		}
		if len(h.Sessions) == 0 {
			return nil, errors.New(`give at least one session such as "09:30-11:30", or "always"`)
		}
		return h, nil
	}
	return nil, errors.New(`must be "auto", "a_share", "always" or a list of sessions such as ["09:30-11:30", "13:00-15:00"]`)
}

func parseSession(s string) (Session, error) {
	from, to, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return Session{}, fmt.Errorf("%q is not a session HH:MM-HH:MM", s)
	}
	start, err1 := clockMinutes(from)
	end, err2 := clockMinutes(to)
	if err1 != nil || err2 != nil {
		return Session{}, fmt.Errorf("%q is not a session HH:MM-HH:MM", s)
	}
	if end <= start {
		return Session{}, fmt.Errorf("session %q ends before it starts", s)
	}
	return Session{start, end}, nil
}

// clockMinutes reads HH:MM (24:00 allowed as the end of the day).
func clockMinutes(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "24:00" {
		return 24 * 60, nil
	}
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, errors.New("bad time")
	}
	return t.Hour()*60 + t.Minute(), nil
}
