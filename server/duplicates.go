package server

// duplicateErrors names every key given twice.
func duplicateErrors(keys []string) []fieldError {
	var errs []fieldError
	for _, k := range keys {
		errs = append(errs, fieldError{Field: truncate(k, 64),
			Reason: "given more than once: send each field once (which one was meant cannot be known)"})
	}
	return errs
}
