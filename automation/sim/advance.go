package sim

import (
	"slices"
	"time"

	"github.com/brokerd/brokerd/automation"
)

// historyDays is how long finished orders, trades, repo loans and
// condition orders are kept in the archive: 近一年, the longest history a
// query asks for, and a day more.
const historyDays = 367

// advance brings the account from the instant it was last evaluated up to
// now, as if the broker had been watching all along: every calendar day
// passed is rolled (day orders end, repo loans pay out, condition orders
// expire, T+1 shares settle) and every session minute passed is replayed
// against the price path, so that resting orders fill and condition orders
// fire when the price crossed even though nobody called.
//
// The replay is bounded without dropping events: minutes are only walked on
// days when something is watching, and nothing watches long — an open order
// lives until the end of its day and a condition order at most
// maxExpireDays (30) natural days, so a restart after any downtime replays
// at most about 22 trading days × 240 minutes. Rolling the calendar itself
// costs a few comparisons a day. A clock that goes backwards replays
// nothing. The caller holds the lock.
func (t *Terminal) advance(now time.Time) {
	if !now.After(t.evaluatedAt) {
		return
	}
	from := t.evaluatedAt
	fromDay, toDay := dayOf(from), dayOf(now)
	rolled := false
	for d := fromDay; d <= toDay; d++ {
		if d > t.st.Today {
			t.roll(d)
			rolled = true
		}
		if !d.trading() || len(t.st.Orders) == 0 && len(t.st.Conditions) == 0 {
			continue
		}
		k0, k1 := 0, sessionMinutes
		if d == fromDay {
			k0 = sessionMinute(from)
		}
		if d == toDay {
			k1 = sessionMinute(now)
		}
		for k := k0 + 1; k <= k1 && len(t.st.Orders)+len(t.st.Conditions) > 0; k++ {
			p, at := point{Day: d, Minute: k}, minuteTime(d, k)
			t.matchOpen(p, at, "")
			t.watchAt(p, at, "")
		}
	}
	if rolled {
		t.pruneDue = true
	}
	t.evaluatedAt = now
}

// roll starts calendar day d.
func (t *Terminal) roll(d day) {
	end := d.start()
	for _, o := range slices.Clone(t.st.Orders) {
		if dayOf(o.PlacedAt) < d {
			t.cancel(o, "当日委托收市未成交, 已自动撤销")
		}
	}
	t.payLoans(d)
	for _, c := range slices.Clone(t.st.Conditions) {
		if c.ExpiresOn < d {
			t.closeCondition(c, automation.ConditionExpired, end)
		}
	}
	for _, p := range t.st.Positions {
		p.settle(d)
	}
	t.st.Today = d
	t.changed = true
}
