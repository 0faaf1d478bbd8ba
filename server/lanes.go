package server

import (
	"errors"

	"github.com/gin-gonic/gin"

	"github.com/brokerd/brokerd/queue"
)

// stats reports the queue's counts.
//
//	@Summary		Queue statistics
//	@Description	The counts of every lane together at the top of data (EasyTHS's queued_count, running_count, success_count, failed_count, plus cancelled_count), and data.terminals.NAME with the same counts, paused and state for each lane. success/failed/cancelled count since brokerd started.
//	@Tags			queue
//	@Produce		json
//	@Success		200	{object}	Envelope{data=StatsView}
//	@Failure		401	{object}	ErrorEnvelope
//	@Security		BearerAuth
//	@Router			/queue/stats [get]
func (s *Server) stats(c *gin.Context) {
	v := newStatsView(s.q.Stats())
	s.markHalts(&v)
	s.ok(c, "", v)
}

// PauseView answers pause and resume.
type PauseView struct {
	Paused    bool     `json:"paused"`
	Terminals []string `json:"terminals"`
} //@name PauseResult

// pause holds lanes.
//
//	@Summary		Pause lanes
//	@Description	Holds a terminal's lane (or every lane without ?terminal=): the running operation finishes, nothing new starts until resume. Submits are still accepted and queued.
//	@Tags			queue
//	@Produce		json
//	@Param			terminal	query		string	false	"the terminal; every terminal when absent"
//	@Success		200			{object}	Envelope{data=PauseView}
//	@Failure		401			{object}	ErrorEnvelope
//	@Failure		403			{object}	ErrorEnvelope
//	@Failure		422			{object}	ErrorEnvelope	"unknown terminal"
//	@Failure		503			{object}	ErrorEnvelope	"journal_unavailable (Retry-After): paused for now, but a restart will not remember it"
//	@Security		BearerAuth
//	@Router			/queue/pause [post]
func (s *Server) pause(c *gin.Context) { s.setPaused(c, true) }

// resume releases lanes.
//
//	@Summary		Resume lanes
//	@Description	Releases a paused lane (or every lane without ?terminal=).
//	@Tags			queue
//	@Produce		json
//	@Param			terminal	query		string	false	"the terminal; every terminal when absent"
//	@Success		200			{object}	Envelope{data=PauseView}
//	@Failure		401			{object}	ErrorEnvelope
//	@Failure		403			{object}	ErrorEnvelope
//	@Failure		422			{object}	ErrorEnvelope	"unknown terminal"
//	@Failure		503			{object}	ErrorEnvelope	"journal_unavailable (Retry-After): the journal cannot be written"
//	@Security		BearerAuth
//	@Router			/queue/resume [post]
func (s *Server) resume(c *gin.Context) { s.setPaused(c, false) }

func (s *Server) setPaused(c *gin.Context, paused bool) {
	terminal := c.Query("terminal")
	set := s.q.Resume
	if paused {
		set = s.q.Pause
	}
	if err := set(c.Request.Context(), terminal); err != nil {
		if errors.Is(err, queue.ErrUnknownTerminal) {
			s.invalid(c, []fieldError{s.unknownTerminal(terminal)})
			return
		}
		if errors.Is(err, queue.ErrJournal) {
			outcome := "the lane is resumed for now, but a restart will not remember it (a lane the journal blocked blocks again at its next operation)"
			if paused {
				outcome = "the lane is paused for now, but a restart will not remember the pause"
			}
			s.journalUnavailable(c, "pause or resume", outcome, err)
			return
		}
		s.internal(c, "pause or resume", err)
		return
	}
	names := s.order
	if terminal != "" {
		names = []string{terminal}
	}
	msg := "resumed"
	if paused {
		msg = "paused: the running operation finishes, nothing new starts until resume"
	}
	s.log.Info("lanes "+msg, "terminals", names, "key_name", c.GetString(keyNameKey))
	s.ok(c, msg, PauseView{Paused: paused, Terminals: names})
}
