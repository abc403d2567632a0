package ad

// DisableViewOps turns the recomputation of operations on views off for
// the external tests and returns the function that turns it on again.
func DisableViewOps() func() {
	disableViewOp = true
	return func() { disableViewOp = false }
}
