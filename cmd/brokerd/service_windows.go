//go:build windows

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/eventlog"
	"golang.org/x/sys/windows/svc/mgr"
)

// manageService handles "install", "uninstall", "start", "stop" (run from
// an administrator's shell) and "service" (how the service manager starts
// brokerd). handled is false for every other command line.
func manageService(args []string, stdout, stderr io.Writer) (handled bool, err error) {
	if len(args) == 0 || !serviceCommands[args[0]] {
		return false, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return true, err
	}
	cmd := args[0]
	setup, err := parseServiceFlags(cmd, args[1:], filepath.Dir(exe), stderr)
	if err != nil {
		return true, err
	}
	switch cmd {
	case "service":
		return true, runService(setup)
	case "install":
		return true, installService(exe, setup, stdout)
	}
	m, err := mgr.Connect()
	if err != nil {
		return true, fmt.Errorf("connect to the service manager (run this from an administrator's shell): %w", err)
	}
	defer m.Disconnect()
	s, err := m.OpenService(serviceName)
	if err != nil {
		return true, fmt.Errorf("service %s is not installed (brokerd install): %w", serviceName, err)
	}
	defer s.Close()
	switch cmd {
	case "uninstall":
		if err := s.Delete(); err != nil {
			return true, err
		}
		_ = eventlog.Remove(serviceName)
		fmt.Fprintln(stdout, "brokerd service removed (stop it first if it still runs)")
	case "start":
		if err := s.Start(); err != nil {
			return true, err
		}
		fmt.Fprintln(stdout, "brokerd service started; its log:", setup.log)
	case "stop":
		return true, stopService(s, stdout)
	}
	return true, nil
}

func installService(exe string, setup serviceSetup, stdout io.Writer) error {
	if _, err := os.Stat(setup.config); err != nil {
		return fmt.Errorf("the service needs a config file it can find: %w (give -config PATH)", err)
	}
	m, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("connect to the service manager (run this from an administrator's shell): %w", err)
	}
	defer m.Disconnect()
	if s, err := m.OpenService(serviceName); err == nil {
		s.Close()
		return fmt.Errorf("service %s is already installed (brokerd uninstall first)", serviceName)
	}
	s, err := m.CreateService(serviceName, exe, mgr.Config{
		DisplayName: "brokerd",
		Description: "Priority queue with one serialized worker per broker terminal, behind EasyTHS's REST API",
		StartType:   mgr.StartAutomatic,
	}, setup.serviceArgs()[1:]...)
	if err != nil {
		return err
	}
	defer s.Close()
	// Restart after a crash, never in a loop faster than every 5 s.
	_ = s.SetRecoveryActions([]mgr.RecoveryAction{{Type: mgr.ServiceRestart, Delay: 5 * time.Second}}, 24*60*60)
	_ = eventlog.InstallAsEventCreate(serviceName, eventlog.Error|eventlog.Warning|eventlog.Info)
	fmt.Fprintf(stdout, "brokerd service installed: config %s, log %s; start it with: brokerd start\n", setup.config, setup.log)
	return nil
}

func stopService(s *mgr.Service, stdout io.Writer) error {
	status, err := s.Control(svc.Stop)
	if err != nil {
		return err
	}
	// brokerd drains for up to 25 s (operations, then HTTP).
	deadline := time.Now().Add(40 * time.Second)
	for status.State != svc.Stopped {
		if time.Now().After(deadline) {
			return errors.New("the brokerd service did not stop within 40 s: see its log")
		}
		time.Sleep(300 * time.Millisecond)
		if status, err = s.Query(); err != nil {
			return err
		}
	}
	fmt.Fprintln(stdout, "brokerd service stopped")
	return nil
}

// runService is brokerd under the service manager: run() with its log in
// setup.log, in the config file's directory (so that relative paths in it,
// such as the journal's, mean what they mean beside it), until the manager
// says stop.
func runService(setup serviceSetup) error {
	logFile, err := os.OpenFile(setup.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer logFile.Close()
	if err := os.Chdir(filepath.Dir(setup.config)); err != nil {
		fmt.Fprintln(logFile, "brokerd service:", err)
		return err
	}
	return svc.Run(serviceName, &serviceHandler{setup: setup, log: logFile})
}

type serviceHandler struct {
	setup serviceSetup
	log   io.Writer
}

func (h *serviceHandler) Execute(_ []string, requests <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	status <- svc.Status{State: svc.StartPending}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-config", h.setup.config}, os.Getenv, h.log, h.log) }()
	status <- svc.Status{State: svc.Running, Accepts: svc.AcceptStop | svc.AcceptShutdown}
	for {
		select {
		case err := <-done:
			if err != nil {
				fmt.Fprintln(h.log, "brokerd:", err)
				if elog, lerr := eventlog.Open(serviceName); lerr == nil {
					_ = elog.Error(1, "brokerd stopped: "+err.Error())
					elog.Close()
				}
				return true, 1
			}
			return false, 0
		case r := <-requests:
			switch r.Cmd {
			case svc.Interrogate:
				status <- r.CurrentStatus
			case svc.Stop, svc.Shutdown:
				status <- svc.Status{State: svc.StopPending, WaitHint: 30000}
				cancel() // run drains and returns through done
			}
		}
	}
}
