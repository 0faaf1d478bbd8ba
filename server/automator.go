package server

import "github.com/brokerd/brokerd/automation"

// AutomatorStatus is EasyTHS's data.automator of /system/status, derived
// from the default terminal, for scripts that check it before trading.
type AutomatorStatus struct {
	// Connected: the default terminal is connected (ready).
	Connected bool `json:"connected" example:"true"`
	// LoggedIn: it can take operations now.
	LoggedIn bool `json:"logged_in" example:"true"`
	// AppPath is the trading program the driver drives, null when it
	// drives none (the sim, an exchange's API).
	AppPath *string `json:"app_path" swaggertype:"string" extensions:"x-nullable" example:"C:/同花顺远航版/transaction/xiadan.exe"`
	// Backend is the default terminal's driver ("sim", …); EasyTHS said
	// "win32" or "uia", the pywinauto backend it drove the program with.
	Backend string `json:"backend" example:"sim"`
	// Terminal names the default terminal these come from.
	Terminal string `json:"terminal" example:"sim"`
} //@name AutomatorStatus

// appPather is a driver that drives a program on this machine and knows
// its path.
type appPather interface {
	AppPath() string
}

func newAutomatorStatus(t automation.Terminal) AutomatorStatus {
	st := t.State()
	v := AutomatorStatus{Connected: st == automation.StateReady, LoggedIn: st.Healthy(), Backend: t.Driver(), Terminal: t.Name()}
	if p, ok := t.(appPather); ok {
		v.AppPath = stringOrNil(p.AppPath())
	}
	return v
}
