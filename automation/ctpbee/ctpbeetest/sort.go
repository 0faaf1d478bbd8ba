package ctpbeetest

import (
	"maps"
	"slices"
	"time"
)

var chinaTime = time.FixedZone("CST", 8*3600)

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
