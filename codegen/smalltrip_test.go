package codegen

// Tests of smalltrip.go: the straight-line small products give the
// loops' bits and errors.

import (
	"fmt"
	"regexp"
	"testing"
)

// smallTripFlag matches the first case of a versioned product
// (smallTrips).
var smallTripFlag = regexp.MustCompile(`(?m)^\s*switch [A-Za-z0-9_()]+ \{\n\s*case 1:$`)

// TestSmallTripsSameBits runs every RUN of testdata/smalltrip.nab
// through the Go backend with the straight-line products and without
// them (Options.noSmallTrips), with the default parallel thresholds and
// with every loop of 4 elements or more parallel: the values must be the
// same bits (their JSON, which spells every float exactly, equal) and
// the errors the same text, the interpreter's, positions included.
func TestSmallTripsSameBits(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go programs")
	}
	configs := []Options{{Main: true}, {Main: true, noSmallTrips: true}, {Main: true, ParallelMin: 4}, {Main: true, ParallelMin: 4, noSmallTrips: true}}
	v := buildVariants(t, "testdata/smalltrip.nab", configs, func(i int, code string) {
		// Every product of the file (three in the gradient) is versioned,
		// in each of its copies (serial and parallel).
		if n := len(smallTripFlag.FindAllString(code, -1)); (n >= 8) == configs[i].noSmallTrips {
			t.Fatalf("%+v: %d versioned products", configs[i], n)
		}
	})
	runs, fails := 0, 0
	for _, c := range topRuns(v.src) {
		// (The interpreter sums some products in another order, so only
		// its errors are compared.)
		outs, ierr := v.call(t, c, func(i int) string { return fmt.Sprintf("%+v", configs[i]) })
		if ierr != nil {
			fails++
		}
		for i := 1; i < len(outs); i += 2 {
			if outs[i-1] != outs[i] {
				t.Errorf("line %d: %s: straight %s, loops %s (%+v)", c.line, c.def, outs[i-1], outs[i], configs[i])
			}
		}
		runs++
	}
	if runs < 100 || fails < 10 {
		t.Fatalf("only %d RUN lines, %d failing", runs, fails)
	}
}
