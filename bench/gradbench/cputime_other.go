//go:build !unix

package gradbench

import "time"

// cpuTime is not available here: the table's CPU column stays empty.
func cpuTime() time.Duration { return 0 }
