package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/brokerd/brokerd/queue"
)

// Paging of /history.
const (
	defaultHistoryLimit = 100
	maxHistoryLimit     = 1000
)

// HistoryItem is one journaled operation: its status and its params.
type HistoryItem struct {
	StatusView
	Params json.RawMessage `json:"params" swaggertype:"object"`
} //@name HistoryItem

// HistoryView answers /history.
type HistoryView struct {
	Operations []HistoryItem `json:"operations"`
	// Total is how many operations match the filter in all.
	Total  int `json:"total"`
	Limit  int `json:"limit"`
	Offset int `json:"offset"`
} //@name History

// history lists journaled operations.
//
//	@Summary		Operation history
//	@Description	Journaled operations, newest first, filtered and paged. since and until bound the submit time (since inclusive, until exclusive) and take RFC 3339 times (2026-01-02T09:30:00+08:00) or dates (2026-01-02, local time).
//	@Tags			operations
//	@Produce		json
//	@Param			status		query		string	false	"queued, running, success, failed or cancelled"
//	@Param			name		query		string	false	"operation name"
//	@Param			terminal	query		string	false	"terminal"
//	@Param			since		query		string	false	"submitted at or after"
//	@Param			until		query		string	false	"submitted before"
//	@Param			limit		query		int		false	"1 to 1000 (default 100)"
//	@Param			offset		query		int		false	"operations to skip"
//	@Success		200			{object}	Envelope{data=HistoryView}
//	@Failure		401			{object}	ErrorEnvelope
//	@Failure		422			{object}	ErrorEnvelope	"a bad filter"
//	@Failure		503			{object}	ErrorEnvelope	"no journal configured"
//	@Security		BearerAuth
//	@Router			/history [get]
func (s *Server) listHistory(c *gin.Context) {
	f, errs := s.historyFilter(c)
	if len(errs) > 0 {
		s.invalid(c, errs)
		return
	}
	if s.history == nil {
		s.fail(c, codeUnavailable, "history needs the journal: brokerd runs without one ([store] path)", nil)
		return
	}
	ops, total, err := s.history.History(c.Request.Context(), f)
	var coded interface{ ErrorCode() string }
	switch {
	case errors.As(err, &coded) && coded.ErrorCode() == codeInvalidParams:
		s.fail(c, codeInvalidParams, err.Error(), nil)
		return
	case err != nil:
		s.internal(c, "read the history", err)
		return
	}
	now := s.now()
	v := HistoryView{Operations: make([]HistoryItem, len(ops)), Total: total, Limit: f.Limit, Offset: f.Offset}
	for i, op := range ops {
		params := op.Params
		if len(params) == 0 {
			params = json.RawMessage("{}")
		}
		v.Operations[i] = HistoryItem{StatusView: newStatusView(op, now), Params: params}
	}
	s.ok(c, "", v)
}

func (s *Server) historyFilter(c *gin.Context) (queue.HistoryFilter, []fieldError) {
	f := queue.HistoryFilter{
		Name:     c.Query("name"),
		Terminal: c.Query("terminal"),
		Limit:    defaultHistoryLimit,
	}
	var errs []fieldError
	if st := c.Query("status"); st != "" {
		switch queue.Status(st) {
		case queue.StatusQueued, queue.StatusRunning, queue.StatusSuccess, queue.StatusFailed, queue.StatusCancelled:
			f.Status = queue.Status(st)
		default:
			errs = append(errs, fieldError{Field: "status", Reason: "must be queued, running, success, failed or cancelled"})
		}
	}
	for _, b := range []struct {
		name string
		to   *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if v := c.Query(b.name); v != "" {
			t, err := parseWhen(v)
			if err != nil {
				errs = append(errs, fieldError{Field: b.name, Reason: "must be an RFC 3339 time (2026-01-02T09:30:00+08:00) or a date (2026-01-02)"})
				continue
			}
			*b.to = t
		}
	}
	if v, ok := c.GetQuery("limit"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 || n > maxHistoryLimit {
			errs = append(errs, fieldError{Field: "limit", Reason: fmt.Sprintf("must be an integer from 1 to %d", maxHistoryLimit)})
		} else {
			f.Limit = n
		}
	}
	if v, ok := c.GetQuery("offset"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 {
			errs = append(errs, fieldError{Field: "offset", Reason: "must be an integer of at least 0"})
		} else {
			f.Offset = n
		}
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		errs = append(errs, fieldError{Field: "until", Reason: "must be after since"})
	}
	return f, errs
}

// parseWhen reads an RFC 3339 time or a local date. A "+" of an offset
// that came unescaped in the query string arrives as a space: it is put
// back.
func parseWhen(v string) (time.Time, error) {
	v = strings.ReplaceAll(strings.TrimSpace(v), " ", "+")
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	return time.ParseInLocation(time.DateOnly, v, time.Local)
}
