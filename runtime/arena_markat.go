// MarkAt: the arena mark written in place, for generated loops.

package runtime

// MarkAt stores the arena's current point in *m, as m = a.Mark() would.
//
// Generated code marks the arena at the top of loop iterations, and a
// generated function is often too large for Go to inline Mark into it.
// The six words Mark returns in registers are then stored one by one to
// a temporary and copied to the mark's own stack slot sixteen bytes at
// a time; a sixteen-byte load of two fresh eight-byte stores cannot be
// forwarded from the store buffer, so every iteration waited for the
// stores to reach the cache (the GMM gradient's per-component loop:
// docs/performance.md, "GMM gradient, stop 24"). Writing through the
// pointer stores each word once, and Release reads them back one by one.
func (a *Arena) MarkAt(m *ArenaMark) {
	if a == nil {
		*m = ArenaMark{}
		return
	}
	m.f, m.i, m.b = a.f.pos(), a.i.pos(), a.b.pos()
}
