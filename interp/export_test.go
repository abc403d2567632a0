package interp

// SetArenaTemps sets arenaTemps for the external tests and returns the
// function that clears it.
func SetArenaTemps() func() {
	arenaTemps = true
	return func() { arenaTemps = false }
}

// ValueBits is valueBits, for the external tests.
var ValueBits = valueBits
