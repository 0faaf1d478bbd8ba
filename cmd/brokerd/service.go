package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
)

// serviceName is brokerd's name as a Windows service.
const serviceName = "brokerd"

// serviceCommands are the first arguments that manage brokerd as a Windows
// service; "service" is how the service manager starts it.
var serviceCommands = map[string]bool{"install": true, "uninstall": true, "start": true, "stop": true, "service": true}

// serviceSetup is where a service's brokerd finds its config and writes
// its log.
type serviceSetup struct {
	config string // absolute
	log    string // absolute
}

// parseServiceFlags reads "install [-config PATH] [-log PATH]" (and the
// same flags of "service"). Paths are made absolute: a service starts in
// the system directory, so a relative path would mean another file there.
// The defaults sit beside the executable: config.toml and brokerd.log.
func parseServiceFlags(cmd string, args []string, exeDir string, stderr io.Writer) (serviceSetup, error) {
	fs := flag.NewFlagSet("brokerd "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", filepath.Join(exeDir, defaultConfigPath), "the config file the service runs on")
	log := fs.String("log", filepath.Join(exeDir, "brokerd.log"), "the file the service writes its log to")
	if err := fs.Parse(args); err != nil {
		return serviceSetup{}, err
	}
	if fs.NArg() > 0 {
		return serviceSetup{}, fmt.Errorf("unexpected arguments %q after %s", fs.Args(), cmd)
	}
	var s serviceSetup
	var err error
	if s.config, err = filepath.Abs(*config); err != nil {
		return serviceSetup{}, err
	}
	if s.log, err = filepath.Abs(*log); err != nil {
		return serviceSetup{}, err
	}
	return s, nil
}

// serviceArgs are the arguments the service manager starts brokerd with.
func (s serviceSetup) serviceArgs() []string {
	return []string{"service", "-config", s.config, "-log", s.log}
}

var errNotWindows = errors.New("brokerd runs as a Windows service only on Windows: on Linux use deploy/brokerd.service (systemd)")
