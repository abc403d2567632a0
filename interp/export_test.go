package interp

// SetArenaTemps sets arenaTemps for the external tests and returns the
// function that clears it.
func SetArenaTemps() func() {
	arenaTemps = true
	return func() { arenaTemps = false }
}

// ValueBits is valueBits, for the external tests.
var ValueBits = valueBits

// SetNoRevChain sets noRevChain for the external tests and returns the
// function that clears it.
func SetNoRevChain() func() {
	noRevChain = true
	return func() { noRevChain = false }
}

// RevChains is the number of loop bodies revChain has compiled so far.
func RevChains() int64 { return revChains.Load() }
