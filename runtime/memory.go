package runtime

import (
	"fmt"
	"math"
	goruntime "runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"unsafe"
	"weak"
)

// The memory limit bounds the bytes of array storage a call holds alive,
// not the bytes it ever allocated: a loop that allocates and drops a
// buffer a million times needs room for one buffer.
//
// A Machine keeps an upper bound, used, of what its call holds: what it
// measured alive last time, plus every allocation since at full size.
// Allocating is cheap while used stays under the limit; when an
// allocation would pass it, the Machine measures again, and only fails if
// the measurement still leaves no room.
//
// Measuring relies on the garbage collector, through weak pointers
// (package weak) to the storage of the call's arrays: after a collection,
// an array whose weak pointer is nil is gone. A weak pointer costs about a
// microsecond, too much for every small array, so small arrays are
// sampled as Go's heap profiler samples: storage of at least interval
// bytes is always tracked at its own size, and smaller storage is tracked
// with probability size/interval at a weight of interval bytes, so that
// the live sampled weight estimates the live bytes without bias. The
// interval is 1/1024 of the limit (between 512 bytes and 1 MiB), so the
// estimate's error is a few percent of the limit at worst, and large
// arrays, which are what exhausts memory, are counted exactly.
//
// A measurement first uses a collection that has already happened since
// the last one, and forces one (runtime.GC) only if that does not make
// room. Forced collections are serialized, and a call that waited for
// another's collection reuses it. Each call measures its own arrays, so
// concurrent calls and the host's own allocations do not count against a
// call, and nothing is shared between calls but the collector.
//
// What is counted is the storage of arrays (8 bytes an f64 or i64, 1 a
// bool, 32 a boxed element); tuples, closures and the interpreter's frames
// are small and bounded by the program's code, and are not counted.

// memMeter is a Machine's account of live array storage.
type memMeter struct {
	limit    int64 // effective limit: min(Limits.Memory, the machine's memory); 0 before setup
	capped   bool  // the limit is the machine's memory, not Limits.Memory
	used     int64 // upper bound on live tracked bytes: measured plus allocated since
	interval int64 // sampling interval in bytes
	next     int64 // bytes of small storage until the next sample
	rng      uint64
	tracked  []tracked
	lookAt   int    // len(tracked) at which to look for a collection
	cycles   uint64 // completed GC cycles at the last measurement
}

// tracked is one array storage under watch and the bytes it stands for.
type tracked struct {
	p      weak.Pointer[byte]
	weight int64
}

// memError is a failed allocation: it matches ErrMemoryLimit with
// errors.Is and reads as its own message.
type memError struct{ msg string }

func (e *memError) Error() string        { return e.msg }
func (e *memError) Is(target error) bool { return target == ErrMemoryLimit }

// TooLarge is the error of an array size that no machine could hold, such
// as one whose byte count overflows; it matches ErrMemoryLimit.
func TooLarge(format string, args ...any) error {
	return &memError{msg: "memory limit exceeded: " + fmt.Sprintf(format, args...)}
}

func (mm *memMeter) setup(limit int64) {
	sys := SystemMemory()
	if sys > 0 && (limit <= 0 || limit > sys) {
		limit, mm.capped = sys, true
	}
	if limit <= 0 {
		limit = math.MaxInt64
	}
	mm.limit = limit
	mm.interval = min(max(limit/1024, 512), 1<<20)
	mm.rng = 0x9e3779b97f4a7c15
	mm.next = mm.sampleGap()
	mm.lookAt = 1024
}

// reserve checks that bytes more fit under the limit before they are
// allocated, measuring what is alive if the bound says they may not.
func (m *Machine) reserve(bytes int64) error {
	if m == nil {
		if sys := SystemMemory(); sys > 0 && bytes > sys {
			return (&memMeter{limit: sys, capped: true}).tooMuch(bytes, 0)
		}
		return nil
	}
	mm := &m.mem
	if mm.limit == 0 {
		mm.setup(m.Limits.Memory)
	}
	if bytes > mm.limit {
		return mm.tooMuch(bytes, 0)
	}
	if mm.used+bytes > mm.limit {
		mm.measure(bytes)
		if mm.used+bytes > mm.limit {
			return mm.tooMuch(bytes, mm.used)
		}
	}
	mm.used += bytes
	return nil
}

// tooMuch is the error of an allocation of bytes that does not fit
// beside live bytes.
func (mm *memMeter) tooMuch(bytes, live int64) error {
	limit := "the limit of " + byteSize(mm.limit)
	if mm.capped {
		limit = "the " + byteSize(mm.limit) + " this process may use"
	}
	if live == 0 {
		return &memError{msg: fmt.Sprintf("memory limit exceeded: an array of %s does not fit in %s", byteSize(bytes), limit)}
	}
	return &memError{msg: fmt.Sprintf("memory limit exceeded: an array of %s does not fit beside the %s alive, in %s", byteSize(bytes), byteSize(live), limit)}
}

// byteSize prints a byte count exactly, with a rounded binary unit for
// large ones: "1048576 bytes (1 MiB)".
func byteSize(n int64) string {
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	s := fmt.Sprintf("%d bytes", n)
	f, u := float64(n), -1
	for f >= 1024 && u+1 < len(units) {
		f /= 1024
		u++
	}
	if u < 0 {
		return s
	}
	return fmt.Sprintf("%s (%.3g %s)", s, f, units[u])
}

// track puts storage s of bytes bytes, just allocated under m, under
// watch: always when it is large, by sampling when it is small.
func track[T any](m *Machine, s []T, bytes int64) {
	if m == nil || len(s) == 0 {
		return
	}
	mm := &m.mem
	weight := bytes
	if bytes < mm.interval {
		mm.next -= bytes
		if mm.next > 0 {
			return
		}
		mm.next += mm.sampleGap()
		weight = mm.interval
	}
	mm.tracked = append(mm.tracked, tracked{weak.Make((*byte)(unsafe.Pointer(&s[0]))), weight})
	if len(mm.tracked) >= mm.lookAt {
		// Keep the list short in a long run far from the limit: drop what
		// a collection has since found dead, without forcing one.
		if c := gcCycles(); c != mm.cycles {
			mm.prune(c)
		}
		mm.lookAt = 2*len(mm.tracked) + 1024
	}
}

// sampleGap draws the bytes until the next sample from an exponential
// distribution of mean interval (a Poisson process over the bytes
// allocated), with a generator of the Machine's own: the same call makes
// the same choices.
func (mm *memMeter) sampleGap() int64 {
	mm.rng ^= mm.rng << 13
	mm.rng ^= mm.rng >> 7
	mm.rng ^= mm.rng << 17
	u := (float64(mm.rng>>11) + 0.5) / (1 << 53)
	return int64(-math.Log(u)*float64(mm.interval)) + 1
}

// measure recomputes used from what is still alive: first after the
// collections that have completed since the last measurement, then, if
// that leaves no room for need more bytes, after a forced one.
//
// A collection that completes after the call dropped an array may still
// have kept it (an array allocated during a cycle's marking survives that
// cycle), so the forced path waits for a cycle that began after it asked:
// two completions from the count it saw, its own runtime.GC or another
// call's.
func (mm *memMeter) measure(need int64) {
	start := gcCycles()
	if start != mm.cycles {
		mm.prune(start)
		if mm.used+need <= mm.limit {
			return
		}
	}
	gcMu.Lock()
	if gcCycles() < start+2 {
		goruntime.GC()
	}
	gcMu.Unlock()
	mm.prune(gcCycles())
}

// gcMu serializes forced collections.
var gcMu sync.Mutex

// prune drops the tracked storage that is gone and sets used to the
// weight of the rest. Allocations since the last sample that were not
// sampled are represented by the samples, so they leave the account here.
func (mm *memMeter) prune(cycles uint64) {
	live := int64(0)
	keep := mm.tracked[:0]
	for _, t := range mm.tracked {
		if t.p.Value() != nil {
			keep = append(keep, t)
			live += t.weight
		}
	}
	clear(mm.tracked[len(keep):])
	mm.tracked = keep
	mm.used = live
	mm.cycles = cycles
}

// gcCycles is the number of completed garbage collections.
func gcCycles() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// Live returns the Machine's current bound on the bytes of array storage
// its call holds alive (after Measure, the measured amount).
func (m *Machine) Live() int64 { return m.mem.used }

// Measure forces a garbage collection and measures the array storage the
// call still holds, as an allocation that would pass the limit does.
func (m *Machine) Measure() int64 {
	if m.mem.limit == 0 {
		m.mem.setup(m.Limits.Memory)
	}
	gcMu.Lock()
	goruntime.GC()
	gcMu.Unlock()
	m.mem.prune(gcCycles())
	return m.mem.used
}

// CheckBytes checks, before allocating, that an array of bytes bytes fits
// in limit (0 for none but the machine's memory): generated code's size
// checks, with the interpreter's messages.
func CheckBytes(bytes, limit int64) error {
	var mm memMeter
	mm.setup(limit)
	if bytes > mm.limit {
		return mm.tooMuch(bytes, 0)
	}
	return nil
}

// arrayLimit is SetArrayLimit's limit, 0 for none.
var arrayLimit atomic.Int64

// SetArrayLimit makes CheckSize and MulSize refuse, for the whole
// process, a size whose array (at 8 bytes an element) would not fit in
// limit bytes; 0 removes the limit. It is how a command generated by
// nabla run --backend go applies --max-memory before it allocates; the
// interpreter limits each call through its Machine instead.
func SetArrayLimit(limit int64) {
	arrayLimit.Store(max(limit, 0))
	setSizeBound(max(limit, 0)) // CheckSizeFast's bound follows the limit
}

// Charge charges m for storage s that a kernel allocated itself (the
// solution GMRES returns), as the New functions charge theirs.
func Charge[T any](m *Machine, s []T) error {
	bytes := int64(len(s)) * int64(unsafe.Sizeof(*new(T)))
	if err := m.reserve(bytes); err != nil {
		return err
	}
	track(m, s, bytes)
	return nil
}

// newSlice allocates the zeroed storage of an array of shape, of size
// bytes an element, under m: the size is checked against overflow and
// against the limit before anything is allocated.
func newSlice[T any](m *Machine, shape []int, size int64) ([]T, error) {
	n, err := CheckShape(shape)
	if err != nil {
		return nil, err
	}
	bytes := int64(n) * size
	if err := m.reserve(bytes); err != nil {
		return nil, err
	}
	s := make([]T, n)
	track(m, s, bytes)
	return s, nil
}

// CheckShape returns the number of elements of shape, or an error
// matching ErrMemoryLimit if it passes MaxElems (the product may
// overflow int) or a dimension is negative.
func CheckShape(shape []int) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative size %d", d)
		}
		if d == 0 {
			return 0, nil
		}
	}
	for _, d := range shape {
		if n > MaxElems/d {
			return 0, TooLarge("size %s is too large", ShapeString(shape))
		}
		n *= d
	}
	return n, nil
}

var (
	sysOnce sync.Once
	sysMem  int64
)

// SystemMemory returns the most memory this process can use, in bytes:
// the least of the machine's physical memory, the memory limit of its
// control group and its address-space limit, as far as the system tells
// (0 if it tells nothing). An array larger than that cannot be allocated
// whatever the limits say.
func SystemMemory() int64 {
	sysOnce.Do(func() { sysMem = systemMemory() })
	return sysMem
}

// DefaultMemoryLimit is the memory limit of nabla run and of the Go API
// when none is given: a quarter of SystemMemory, or 4 GiB when the system
// does not tell.
func DefaultMemoryLimit() int64 {
	if s := SystemMemory(); s > 0 {
		return s / 4
	}
	return 4 << 30
}
