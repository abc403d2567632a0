package interp

import (
	"sync"
	"sync/atomic"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// lazyValue is a value def's cached value. The def is evaluated on first
// use, by the first caller, under that caller's machine (so its limits and
// context apply), and at most once per Interp: later and concurrent users
// get the cached value or error.
//
// It is not a sync.Once, for two reasons. Errors that belong to a call
// rather than to the program (an exhausted step limit, a cancelled
// context) are not cached: the next user evaluates again, under its own
// limits. And a user waiting for another goroutine's evaluation still
// honours its own context instead of blocking on a mutex.
type lazyValue struct {
	done atomic.Bool // val and err are final
	mu   sync.Mutex
	busy chan struct{} // while an evaluation runs: closed when it ends
	val  runtime.Value
	err  *ir.Error // a program error, cached without the def's frame
}

// value returns a value def's value, evaluating it if needed. call is the
// position of the reference (zero for the entry call); errors get the def's
// frame with that call position.
func (dc *defCode) value(m *runtime.Machine, call ir.Pos) (runtime.Value, error) {
	l := &dc.lazy
	for {
		if l.done.Load() {
			return dc.cached(call)
		}
		l.mu.Lock()
		if l.done.Load() {
			l.mu.Unlock()
			continue
		}
		if w := l.busy; w != nil {
			l.mu.Unlock()
			if err := waitFor(m, w); err != nil {
				return runtime.Value{}, withFrame(errAt(orPos(call, dc.pos), err), dc.frame(call))
			}
			continue
		}
		w := make(chan struct{})
		l.busy = w
		l.mu.Unlock()

		v, err := dc.evalValue(m)

		l.mu.Lock()
		transient := err != nil && isTransient(err)
		if !transient {
			l.val = v
			if err != nil {
				l.err = asIRError(err, dc.pos)
			}
			l.done.Store(true)
		}
		l.busy = nil
		close(w)
		l.mu.Unlock()
		if transient {
			return runtime.Value{}, withFrame(err, dc.frame(call))
		}
		return dc.cached(call)
	}
}

func (dc *defCode) cached(call ir.Pos) (runtime.Value, error) {
	l := &dc.lazy
	if l.err != nil {
		return runtime.Value{}, withFrame(cloneError(l.err), dc.frame(call))
	}
	return l.val, nil
}

// evalValue evaluates a value def's body; a panic becomes an error, so
// that waiting users are always released. The value outlives the call, so
// it must not be built in the call's recycled arrays, which may include
// storage the caller offered for its result (CallInto): they are set
// aside while it runs.
func (dc *defCode) evalValue(m *runtime.Machine) (v runtime.Value, err error) {
	defer recoverAt(&err, dc.pos)
	if m != nil {
		saved := m.SwapRecycled(nil)
		defer m.SwapRecycled(saved)
	}
	return dc.body(newFrame(m, dc.nslots, nil))
}

// waitFor waits until w is closed or m's context is done.
func waitFor(m *runtime.Machine, w chan struct{}) error {
	if m == nil || m.Ctx == nil {
		<-w
		return nil
	}
	select {
	case <-w:
		return nil
	case <-m.Ctx.Done():
		return m.Ctx.Err()
	}
}
