package server

import (
	"bytes"
	"encoding/json"
)

// duplicateKeys lists, in the order they first repeat, the keys that
// appear more than once at the top level of a JSON object. encoding/json
// keeps the last of them silently; a proxy or a log reading the first
// would then see another request than the one brokerd runs, so such a body
// is refused. Keys are compared decoded ("par\u0061ms" is "params"). body
// must be a valid JSON object; the walk is linear in its size.
func duplicateKeys(body []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	seen := map[string]bool{}
	reported := map[string]bool{}
	var dups []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return dups
		}
		key, _ := tok.(string)
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return dups
		}
		if seen[key] && !reported[key] {
			reported[key] = true
			dups = append(dups, key)
		}
		seen[key] = true
	}
	return dups
}

// duplicateErrors names every key given twice.
func duplicateErrors(keys []string) []fieldError {
	var errs []fieldError
	for _, k := range keys {
		errs = append(errs, fieldError{Field: truncate(k, 64),
			Reason: "given more than once: send each field once (which one was meant cannot be known)"})
	}
	return errs
}
