package main

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// arrayTables are the keys written as arrays of tables ([[name]]): a
// single [name] table there is accepted by the TOML decoder as one element
// and then means something else than the person wrote, so it is refused.
var arrayTables = [][]string{{"terminals"}, {"api", "keys"}}

// checkArrayTables refuses [terminals] (a table) where [[terminals]] (an
// array of tables) is meant, with the fix.
func checkArrayTables(raw []byte) error {
	var loose map[string]any
	if toml.Unmarshal(raw, &loose) != nil {
		return nil // the strict decoder reports it
	}
	for _, path := range arrayTables {
		var v any = loose
		for _, k := range path {
			m, _ := v.(map[string]any)
			v = m[k]
		}
		if _, isTable := v.(map[string]any); isTable {
			name := strings.Join(path, ".")
			msg := fmt.Sprintf("[%s] is written as a single table, but %s is a list: write [[%s]] (two brackets) above each entry", name, name, name)
			if name == "terminals" {
				msg += ", and its options as [terminals.options] below it"
			}
			return errors.New(msg)
		}
	}
	return nil
}

// typeMismatch matches go-toml's "cannot decode TOML string into struct
// field main.APIConfig.Port of type int".
var typeMismatch = regexp.MustCompile(`cannot decode TOML (\w+) into (?:struct field \S+ of type |a Go value of type )(\S+)`)

// typeInWords says what a Go type of the config is, as a person writing
// TOML sees it.
func typeInWords(goType string) string {
	switch {
	case strings.HasPrefix(goType, "int") || strings.HasPrefix(goType, "uint"):
		return "a whole number without quotes"
	case strings.HasPrefix(goType, "float"):
		return "a number without quotes"
	case goType == "bool":
		return "true or false, without quotes"
	case goType == "string":
		return `a string in quotes`
	case strings.HasPrefix(goType, "[]string"):
		return `a list of strings such as ["a", "b"]`
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.HasPrefix(goType, "map"):
		return "a table"
	case strings.HasSuffix(goType, "Duration"):
		return `a duration string such as "30s"`
	}
	return goType
}

// tomlKinds names TOML's value kinds in words.
var tomlKinds = map[string]string{
	"string": "a string", "integer": "an integer", "float": "a number", "boolean": "a boolean",
	"array": "a list", "table": "a table", "datetime": "a date-time", "inline": "an inline table",
}

// explainMismatch rewrites a type mismatch of go-toml in words: which key,
// what it must be, what it was.
func explainMismatch(key, msg string) (string, bool) {
	m := typeMismatch.FindStringSubmatch(msg)
	if m == nil {
		return "", false
	}
	got := tomlKinds[m[1]]
	if got == "" {
		got = m[1]
	}
	hint := ""
	if m[1] == "string" && strings.HasPrefix(m[2], "int") {
		hint = ": remove the quotes"
	}
	return fmt.Sprintf("%s must be %s, not %s%s", key, typeInWords(m[2]), got, hint), true
}

// listenHint says what to do about a failed listen, by its cause.
func listenHint(host string, err error) string {
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, errAddrInUse):
		return "the port is taken: is another brokerd or EasyTHS running? stop it, or change [api] port"
	case errors.Is(err, errAddrNotAvail):
		return fmt.Sprintf("%s is not an address of this machine: set [api] host to one of its addresses, or to 127.0.0.1", host)
	case errors.Is(err, errAccess):
		return "not allowed to listen there: ports below 1024 need administrator rights; choose [api] port 1024 or above"
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("the name %s cannot be resolved: set [api] host to an IP address of this machine, or to 127.0.0.1", host)
	}
	return "check [api] host and port"
}
