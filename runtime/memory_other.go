//go:build !linux

package runtime

// systemMemory is unknown outside Linux: DefaultMemoryLimit falls back to
// a fixed limit, and only sizes that overflow are refused outright.
func systemMemory() int64 { return 0 }
