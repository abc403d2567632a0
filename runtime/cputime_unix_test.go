//go:build unix

package runtime

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user and system) the process has used, all
// threads together.
func cpuTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
