package runtime

// LoopCall does nothing, as a call. Generated code calls it once per
// iteration of a loop that holds loops and no other call: in a loop nest
// without calls Go's register allocator has kept the innermost loop's
// counter on the stack (a store and a load per element of a small dot
// product), and a call in the outer body avoids it for about a
// nanosecond.
//
//go:noinline
func LoopCall() {}
