//go:build !unix

package runtime

import "time"

// cpuTime is not measured here: the table falls back to wall time.
func cpuTime() (time.Duration, bool) { return 0, false }
