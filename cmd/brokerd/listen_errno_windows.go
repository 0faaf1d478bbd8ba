//go:build windows

package main

import "syscall"

// The errors of a failed listen that listenHint tells apart: Winsock's
// WSAEADDRINUSE, WSAEADDRNOTAVAIL and WSAEACCES.
var (
	errAddrInUse    error = syscall.Errno(10048)
	errAddrNotAvail error = syscall.Errno(10049)
	errAccess       error = syscall.Errno(10013)
)
