package main

import "os"

// terminate stops p. Windows cannot send a console process SIGTERM from
// another process group, so it is killed: the journal is crash-safe.
func terminate(p *os.Process) error { return p.Kill() }
