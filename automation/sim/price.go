package sim

import "math"

// anchor fixes a symbol's price at one point of its path; the process runs
// on from there. A quote from config or SetQuote is an anchor; a code never
// quoted is anchored at the account's first trading day, at its base price.
type anchor struct {
	At        point `json:"at"`
	Price     int64 `json:"price_milli"`
	PrevClose int64 `json:"prev_close_milli"` // the band's reference on At.Day
}

// priceModel is the deterministic price process. From an anchor, the log
// price moves each session minute by sigma × z, where z (uniform, unit
// variance) is a hash of (seed, code, trading day, minute) alone; each price
// is rounded to the tick and clamped to the day's limit band, and each day
// opens at the previous close (no opening gap). So the price at a point
// depends on the anchor, the seed and the point only — not on when or how
// often anyone asked — and the same clock always gives the same price.
//
// The model keeps caches; they are derived, never persisted, and guarded by
// the terminal's mutex.
type priceModel struct {
	seed  uint64
	sigma float64 // per-minute volatility of the log price

	chains map[string]chainCache // code → a known previous close
	paths  map[string]*dayPath   // code → the current day's cumulative moves
}

// chainCache remembers prevClose on day for anchor, so that walking the
// days since the anchor is done once.
type chainCache struct {
	anchor    anchor
	day       day
	prevClose int64
}

type dayPath struct {
	day day
	cum [sessionMinutes + 1]float64 // cum[k]: sum of the first k moves
}

// cacheLimit bounds the caches: past it they are dropped and rebuilt, so a
// caller quoting many codes cannot grow memory without end.
const cacheLimit = 4096

func newPriceModel(seed int64, dailyVolatility float64) *priceModel {
	return &priceModel{
		seed:   uint64(seed),
		sigma:  dailyVolatility / math.Sqrt(sessionMinutes),
		chains: make(map[string]chainCache),
		paths:  make(map[string]*dayPath),
	}
}

func (m *priceModel) reset() {
	clear(m.chains)
	clear(m.paths)
}

// at is the price at p and the previous close of p's day.
func (m *priceModel) at(in instrument, a anchor, p point) (price, prevClose int64) {
	if p.before(a.At) {
		return a.Price, a.PrevClose // a clock before the anchor: nothing has moved yet
	}
	if p.Day == a.At.Day {
		return m.walk(in, a.Price, a.PrevClose, p.Day, a.At.Minute, p.Minute), a.PrevClose
	}
	prev := m.prevClose(in, a, p.Day)
	return m.walk(in, prev, prev, p.Day, 0, p.Minute), prev
}

// prevClose is the close of the trading day before d (d after the anchor's
// day), walking forward from the anchor or from the cached last answer. The
// walk is O(240) hashes per trading day; prices of closed days need no
// event replay, so it is not capped.
func (m *priceModel) prevClose(in instrument, a anchor, d day) int64 {
	c, ok := m.chains[in.code]
	if !ok || c.anchor != a || c.day > d {
		c = chainCache{anchor: a, day: a.At.Day.nextTrading()}
		c.prevClose = m.walk(in, a.Price, a.PrevClose, a.At.Day, a.At.Minute, sessionMinutes)
	}
	for c.day < d {
		c.prevClose = m.walk(in, c.prevClose, c.prevClose, c.day, 0, sessionMinutes)
		c.day = c.day.nextTrading()
	}
	if len(m.chains) >= cacheLimit {
		clear(m.chains)
	}
	m.chains[in.code] = c
	return c.prevClose
}

// walk moves from price at minute k0 to minute k1 of trading day d, within
// the band around prevClose.
func (m *priceModel) walk(in instrument, from, prevClose int64, d day, k0, k1 int) int64 {
	if m.sigma == 0 || k1 <= k0 {
		return from
	}
	path := m.path(in.code, d)
	raw := float64(from) * math.Exp(m.sigma*(path.cum[k1]-path.cum[k0]))
	down, up := in.band(prevClose)
	return min(max(in.roundTick(raw), down), up)
}

func (m *priceModel) path(code string, d day) *dayPath {
	if p, ok := m.paths[code]; ok && p.day == d {
		return p
	}
	p := &dayPath{day: d}
	key := mix(m.seed ^ codeHash(code))
	dayKey := mix(key ^ uint64(d))
	for k := 1; k <= sessionMinutes; k++ {
		// Uniform on [-√3, √3): unit variance; 240 of them sum to a
		// near-normal daily move.
		z := (2*unit(mix(dayKey^uint64(k))) - 1) * math.Sqrt(3)
		p.cum[k] = p.cum[k-1] + z
	}
	if len(m.paths) >= cacheLimit {
		clear(m.paths)
	}
	m.paths[code] = p
	return p
}
