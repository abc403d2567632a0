//go:build !linux

package runtime

// MapF64 maps memory outside the Go heap on Linux only; elsewhere ok is
// false and the caller allocates with make.
func MapF64(n int) (s []float64, ok bool) { return nil, false }
