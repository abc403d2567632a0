//go:build !unix

package main

import "time"

// cpuTime is not available here: the table shows wall-clock times only.
func cpuTime() time.Duration { return 0 }
