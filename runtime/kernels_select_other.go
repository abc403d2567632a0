//go:build !amd64 || purego

package runtime

// Without the assembly kernels, the pure-Go ones (the default of active)
// are all there is.
const hasAVX2FMA = false
