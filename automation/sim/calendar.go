package sim

import (
	"fmt"
	"time"
)

// shanghai is China Standard Time. A fixed zone rather than
// time.LoadLocation("Asia/Shanghai"): China has kept UTC+8 without daylight
// saving since 1991, and a fixed zone needs no tzdata on a Windows box.
var shanghai = time.FixedZone("CST", 8*60*60)

// day is a calendar date in Shanghai, counted in days since 1970-01-01. It
// is stored in the ledger as "2006-01-02".
type day int32

func dayOf(t time.Time) day {
	sec := t.Unix() + 8*60*60
	d := sec / 86400
	if sec%86400 < 0 {
		d--
	}
	return day(d)
}

// start is midnight of d in Shanghai.
func (d day) start() time.Time {
	return time.Unix(int64(d)*86400-8*60*60, 0).In(shanghai)
}

func (d day) weekday() time.Weekday {
	return time.Weekday(((int64(d)+4)%7 + 7) % 7) // 1970-01-01 was a Thursday
}

// trading reports whether the exchanges trade on d. The sim knows no
// holidays: every Monday to Friday is a trading day.
func (d day) trading() bool {
	wd := d.weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// nextTrading is the first trading day after d.
func (d day) nextTrading() day {
	n := d + 1
	for !n.trading() {
		n++
	}
	return n
}

// onOrAfterTrading is d when it is a trading day, else the next one.
func (d day) onOrAfterTrading() day {
	if d.trading() {
		return d
	}
	return d.nextTrading()
}

// prevTrading is the last trading day before d.
func (d day) prevTrading() day {
	p := d - 1
	for !p.trading() {
		p--
	}
	return p
}

// compact is the date as THS columns show it: 20260105.
func (d day) compact() string { return d.start().Format("20060102") }

func (d day) String() string { return d.start().Format("2006-01-02") }

func (d day) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

func (d *day) UnmarshalText(b []byte) error {
	t, err := time.ParseInLocation("2006-01-02", string(b), shanghai)
	if err != nil {
		return fmt.Errorf("bad date %q: %w", b, err)
	}
	*d = dayOf(t)
	return nil
}

// The continuous session: 09:30–11:30 and 13:00–15:00 Shanghai time, 240
// minutes. The price moves once a minute inside it and stands still outside.
const (
	sessionMinutes = 240
	morningOpen    = 9*60 + 30
	morningClose   = 11*60 + 30
	afternoonOpen  = 13 * 60
	afternoonClose = 15 * 60
)

// sessionMinute is how many whole session minutes of its day have passed
// at t: 0 before the open (the price is still the previous close), 240 from
// the close on.
func sessionMinute(t time.Time) int {
	l := t.In(shanghai)
	m := l.Hour()*60 + l.Minute()
	switch {
	case m < morningOpen:
		return 0
	case m < morningClose:
		return m - morningOpen
	case m < afternoonOpen:
		return morningClose - morningOpen
	case m < afternoonClose:
		return morningClose - morningOpen + m - afternoonOpen
	default:
		return sessionMinutes
	}
}

// minuteTime is the instant session minute k of d is reached.
func minuteTime(d day, k int) time.Time {
	const morning = morningClose - morningOpen
	if k <= morning {
		return d.start().Add(time.Duration(morningOpen+k) * time.Minute)
	}
	return d.start().Add(time.Duration(afternoonOpen+k-morning) * time.Minute)
}

// point is a place on the price path: a trading day and a session minute.
type point struct {
	Day    day `json:"day"`
	Minute int `json:"minute"`
}

// pointOf maps an instant to the price path. On a day without trading the
// price is the close of the last trading day.
func pointOf(t time.Time) point {
	d := dayOf(t)
	if !d.trading() {
		return point{Day: d.prevTrading(), Minute: sessionMinutes}
	}
	return point{Day: d, Minute: sessionMinute(t)}
}

func (p point) before(q point) bool {
	return p.Day < q.Day || p.Day == q.Day && p.Minute < q.Minute
}
