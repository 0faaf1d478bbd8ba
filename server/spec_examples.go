package server

import (
	"net/http"
	"strconv"
)

// exampleTime is the one time zone rule shown in every example: China time
// (UTC+8), as every timestamp brokerd writes (see formatTime).
const exampleTime = "2026-01-02T10:30:00.123456+08:00"

// errorExamples is, by HTTP status, the error code and message an answer
// of that status carries, for the docs.
var errorExamples = map[int]struct{ code, message string }{
	http.StatusBadRequest:            {codeBadRequest, `the body is not valid JSON: send {"params": {...}} with Content-Type: application/json`},
	http.StatusUnauthorized:          {codeUnauthorized, `missing API key: send the header "Authorization: Bearer <key>"`},
	http.StatusForbidden:             {codeForbidden, `API key "dashboard" lacks the "trade" scope this endpoint needs`},
	http.StatusNotFound:              {codeNotFound, "no operation 0194d3c2-7a10-7c3e-9a5e-1f2d3c4b5a69"},
	http.StatusMethodNotAllowed:      {codeMethodNotAllowed, "PUT is not allowed on /api/v1/ping (allowed: GET)"},
	http.StatusRequestTimeout:        {codeTimeout, "the operation has not finished within the timeout: it is still queued"},
	http.StatusConflict:              {codeConflict, "this idempotency key was already used with a different payload (operation 0194d3c2-7a10-7c3e-9a5e-1f2d3c4b5a69): use a new key for a new operation"},
	http.StatusRequestEntityTooLarge: {codeTooLarge, "request body is larger than 1048576 bytes"},
	http.StatusUnprocessableEntity:   {codeInvalidParams, "invalid request: params.quantity: must be at least 100 and a multiple of 100 for 600000 (lots of 100 shares), got 150"},
	http.StatusTooManyRequests:       {codeRateLimited, "too many requests: retry after the Retry-After header's seconds"},
	http.StatusInternalServerError:   {codeInternal, "internal error while trying to submit: see the server log"},
	http.StatusBadGateway:            {codeNotConnected, "the terminal is not connected: nothing was sent"},
	http.StatusServiceUnavailable:    {codeQueueFull, "the terminal's queue is full: retry later"},
}

// errorExample is an error envelope with status's own code and message.
func errorExample(status int) (map[string]any, bool) {
	e, ok := errorExamples[status]
	if !ok {
		return nil, false
	}
	var data any
	if status == http.StatusUnprocessableEntity {
		data = map[string]any{"errors": []any{map[string]any{"field": "params.quantity",
			"reason": "must be at least 100 and a multiple of 100 for 600000 (lots of 100 shares), got 150"}}}
	}
	return map[string]any{"success": false, "message": e.message, "data": data, "error_code": e.code, "timestamp": exampleTime}, true
}

// exampleErrors gives every error response of the spec whose body is an
// ErrorEnvelope the example of its own status, instead of the one
// invalid_params example swag repeats from the type.
func exampleErrors(paths map[string]any) {
	for _, item := range paths {
		methods, _ := item.(map[string]any)
		for _, op := range methods {
			responses, _ := dig(op, "responses").(map[string]any)
			for code, r := range responses {
				status, err := strconv.Atoi(code)
				resp, _ := r.(map[string]any)
				if err != nil || status < 400 || resp == nil || !refersTo(resp["schema"], "#/definitions/ErrorEnvelope") {
					continue
				}
				// A composed envelope (ErrorEnvelope{data=X}) has data of its
				// own: only 422's, the field errors, is the one shown here.
				if _, composed := dig(resp, "schema", "allOf").([]any); composed && status != http.StatusUnprocessableEntity {
					continue
				}
				if ex, ok := errorExample(status); ok {
					resp["examples"] = map[string]any{"application/json": ex}
				}
			}
		}
	}
}

// refersTo reports whether a schema is, or is composed of, ref.
func refersTo(schema any, ref string) bool {
	m, _ := schema.(map[string]any)
	if m == nil {
		return false
	}
	if m["$ref"] == ref {
		return true
	}
	all, _ := m["allOf"].([]any)
	for _, s := range all {
		if refersTo(s, ref) {
			return true
		}
	}
	return false
}

// exampleGenericSubmit gives SubmitRequest (the body of the generic
// POST /operations/{name}) a real example, a buy, instead of the
// additionalProp placeholders Swagger UI makes up for a free-form object.
func exampleGenericSubmit(spec map[string]any, list OperationList) {
	def, _ := dig(spec, "definitions", "SubmitRequest").(map[string]any)
	props, _ := def["properties"].(map[string]any)
	if def == nil || props == nil {
		return
	}
	params := map[string]any{"stock_code": "600000", "price": 10.5, "quantity": 100}
	if info, ok := list.Operations["buy"]; ok && info.Example != nil {
		params = info.Example
	}
	if p, ok := props["params"].(map[string]any); ok {
		p["example"] = params
		p["description"] = "the operation's parameters: see its \"operation: NAME\" tag (this example is a buy)"
	}
	def["example"] = map[string]any{"params": params, "priority": 5, "client_id": "order-20260102-0001"}
}
