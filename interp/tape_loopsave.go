package interp

import (
	"sync/atomic"

	"github.com/nabla-lang/nabla/runtime"
)

// A loop_save inside a tape body. A reverse pass of nested loops saves,
// per iteration of the outer loop, the inner loop's tape: the LSTM
// gradient's forward sweep runs a loop_save over the layers for every
// character, and the array of its saved states is one more small array
// per character (a header, its shape and its elements: three
// allocations). When the loop_save runs inside the body of a tape that
// has an arena, and its states are tuples and at most tapeMaxElems of
// them, the array is carved from that arena instead, as tapeStack does
// for a build's. The states, steps and errors are Stacker.Stack's: it
// polls only every runtime.PollChunk elements, never for so few, and it
// allocates once the first state is there, as this does.

// stackTape is Stacker.Stack for n ≤ tapeMaxElems boxed states, with the
// array from the arena of slot tape.
func stackTape(fr *frame, tape, n int, get func(i int) (runtime.Value, error)) (*runtime.Array, error) {
	var out *runtime.Array
	for i := range n {
		v, err := get(i)
		if err != nil {
			return nil, err
		}
		if out == nil {
			if out, err = arenaOf(fr, tape).boxes(n); err != nil {
				return nil, err
			}
		}
		out.Box[i] = v
	}
	tapeLoopSaves.Add(1)
	return out, nil
}

// noTapeLoopSave, set by tests, stacks every loop_save's states through
// Stacker.Stack, the reference; tapeLoopSaves counts the arrays carved.
var (
	noTapeLoopSave bool
	tapeLoopSaves  atomic.Int64
)
