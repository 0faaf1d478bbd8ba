package automation

import (
	"errors"
	"fmt"
	"time"
)

// Duration is a driver option's time.Duration, written in config.toml as a
// string: "500ms", "15s", "23h". Drivers use it in their options structs.
type Duration time.Duration

func (d Duration) String() string { return time.Duration(d).String() }

// Value is d as a time.Duration.
func (d Duration) Value() time.Duration { return time.Duration(d) }

func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

func (d *Duration) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		return errors.New(`empty duration: write one such as "15s"`)
	}
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf(`%q is not a duration such as "500ms", "15s" or "23h"`, b)
	}
	*d = Duration(v)
	return nil
}
