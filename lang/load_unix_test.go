//go:build unix

package lang

import (
	"path/filepath"
	"syscall"
	"testing"
)

// fifoCase makes a named pipe to import: reading it must not block.
func fifoCase(t *testing.T, dir string) []struct{ imp, msg string } {
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.nab"), 0o644); err != nil {
		t.Logf("no FIFO: %v", err)
		return nil
	}
	return []struct{ imp, msg string }{{"pipe.nab", "not a regular file (a named pipe)"}}
}
