//go:build !windows

package main

import "syscall"

// The errors of a failed listen that listenHint tells apart.
var (
	errAddrInUse    error = syscall.EADDRINUSE
	errAddrNotAvail error = syscall.EADDRNOTAVAIL
	errAccess       error = syscall.EACCES
)
