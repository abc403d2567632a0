package interp

import "sync/atomic"

// Blocks that write a tape's vectors in place. In a tape body (the
// forward sweep of a reverse pass, tape.go) the vectors a block hands to
// the rest of the body are saved in the tape, so finish carves an array
// for each from the tape arena and copies the buffer into it: the LSTM
// gradient's forward layer body does that for its seven gates every
// step. Instead, once the block has charged its steps, carveOuts carves
// those arrays, in the order and with the sizes finish would, and points
// the buffers at them: exec computes the gates into the tape's storage
// and finish stores the arrays as it stores an outside one, with no copy
// and no buffer. The arena's chunks, and so what is charged to the
// memory meter and when, are those finish's smallVec calls took.
//
// A buffer qualifies when it is an out of its own (not a row's view, not
// one an earlier out already stores) and no step adds into it: prepare
// resolves an add's target to the buffer's storage before carveOuts
// runs. A block with donors keeps finish's copies (a donor that does not
// fit takes its array in finish, which would change the carving order).

// tapeOuts picks the block's buffers written straight into the tape.
func (bd *vbBuilder) tapeOuts() {
	b := bd.b
	if b.tape == 0 || noSVTapeOut {
		return
	}
	for _, o := range b.outs {
		if o.donor >= 0 {
			// A donor that does not fit at run time takes its array in
			// finish, after these: the carving order would change.
			return
		}
	}
	target := map[int]bool{}
	for _, st := range b.steps {
		if st.add || st.scal || st.zero || st.outer {
			target[st.acc] = true
		}
	}
	seen := map[int]bool{}
	for _, o := range b.outs {
		r := o.ref
		if o.row >= 0 || o.donor >= 0 || bd.isExt(r) || target[r] || seen[r] {
			seen[r] = true
			continue
		}
		seen[r] = true
		b.tapeOuts = append(b.tapeOuts, r)
	}
}

// carveOuts gives each of the block's tape outs an array from the tape
// arena, as finish's smallVec would, and makes it the buffer's storage.
// A vector longer than the arena serves keeps its buffer (finish then
// allocates it as usual).
func (b *svBlock) carveOuts(fr *frame, x *vbRun) error {
	a := arenaOf(fr, b.tape)
	carved := false
	for _, r := range b.tapeOuts {
		n := len(x.vec[r])
		if n > tapeMaxElems {
			continue
		}
		arr, err := a.vec(n)
		if err != nil {
			return err
		}
		x.arrs[r], x.vec[r] = arr, arr.F
		carved = true
	}
	if carved {
		svTapeOuts.Add(1)
	}
	return nil
}

// noSVTapeOut, set by tests, has finish copy every tape out from its
// buffer, the reference; svTapeOuts counts the runs that carved any.
var (
	noSVTapeOut bool
	svTapeOuts  atomic.Int64
)
