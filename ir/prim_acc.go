package ir

import (
	"fmt"

	"github.com/nabla-lang/nabla/runtime"
)

// Primitives that reverse mode emits: zero cotangents, in-place
// accumulators of array cotangents, and loops that save their states.
// Users cannot name them; they appear in `nabla ir --stage ad` output.
//
// Accumulators keep reverse mode cheap: a read x[i] in a loop or a
// comprehension contributes to one element of x's cotangent, and adding a
// dense one-hot array instead would cost O(len(x)) per read. acc_add_at
// updates its first argument in place, which is safe because package ad
// creates each accumulator fresh (zeros_like) and threads it linearly.

var (
	PrimZerosLike = Register(&Prim{Name: "zeros_like", Arity: 1, Doc: "zeros_like(x): a fresh zero of x's type and shape",
		Class: Internal, Fails: NeverFails, Storage: Fresh,
		NoDerivative: true,
		Type: func(args []Type, _ any) (Type, error) {
			if _, isFn := args[0].(*Func); isFn {
				return nil, fmt.Errorf("zeros_like: argument is a function")
			}
			return args[0], nil
		},
		Eval: func(*Site) (Impl, error) {
			return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
				return runtime.ZeroLike(m, args[0])
			}, nil
		}})
	PrimAccAdd = Register(&Prim{Name: "acc_add", Arity: 2, Storage: InPlace, Doc: "acc_add(acc, v): acc += v in place (v an array of acc's shape or a scalar); returns acc",
		Class: Internal, Fails: MayFail,
		Type: func(args []Type, _ any) (Type, error) {
			if k, ok := Leaf(args[0]); !ok || k != F64 || Rank(args[0]) == 0 {
				return nil, fmt.Errorf("acc_add: accumulator has type %s; want an array of f64", args[0])
			}
			if !Equal(args[0], args[1]) && !Identical(args[1], TF64) {
				return nil, fmt.Errorf("acc_add: value has type %s; want %s", args[1], args[0])
			}
			return args[0], nil
		},
		Eval: func(s *Site) (Impl, error) {
			scalar := Rank(s.Args[1]) == 0
			return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
				acc := args[0].Array()
				if scalar {
					runtime.AddConstTo(acc.F, acc.F, args[1].F)
					return args[0], m.Step(int64(len(acc.F)))
				}
				v := args[1].Array()
				if !runtime.SameShape(acc.Shape, v.Shape) {
					return errValue, fmt.Errorf("acc_add: shapes %s and %s differ", runtime.ShapeString(acc.Shape), runtime.ShapeString(v.Shape))
				}
				runtime.AddTo(acc.F, acc.F, v.F)
				return args[0], m.Step(int64(len(acc.F)))
			}, nil
		}})
	PrimAccAddAt = Register(&Prim{Name: "acc_add_at", Arity: 3, Storage: InPlace, Doc: "acc_add_at(acc, i, v): acc[i] += v in place; returns acc",
		Class: Internal, Fails: MayFail,
		Type: func(args []Type, _ any) (Type, error) {
			a, ok := args[0].(*Array)
			if k, isF := Leaf(args[0]); !ok || !isF || k != F64 {
				return nil, fmt.Errorf("acc_add_at: accumulator has type %s; want an array of f64", args[0])
			}
			if err := needKind("acc_add_at", 1, args[1], I64); err != nil {
				return nil, err
			}
			if !Equal(a.Elem, args[2]) {
				return nil, fmt.Errorf("acc_add_at: value has type %s; want %s", args[2], a.Elem)
			}
			return args[0], nil
		},
		Eval: func(s *Site) (Impl, error) {
			return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
				acc, row, err := accRow(args)
				if err != nil {
					return errValue, err
				}
				if len(acc.Shape) == 1 {
					row[0] += args[2].F
					return args[0], nil
				}
				v := args[2].Array()
				if !runtime.SameShape(acc.Shape[1:], v.Shape) {
					return errValue, fmt.Errorf("acc_add_at: row shapes %s and %s differ", runtime.ShapeString(acc.Shape[1:]), runtime.ShapeString(v.Shape))
				}
				runtime.AddTo(row, row, v.F)
				return args[0], m.Step(int64(len(row)))
			}, nil
		}})
	// PrimAccZeroAt clears row i of an accumulator in place: the
	// cotangent of update(a, i, v) for a is ybar with row i zeroed, and
	// update's own copy would cost O(len(a)) per update (an LSTM's state
	// has a row per layer, updated twice per layer and step).
	PrimAccZeroAt = Register(&Prim{Name: "acc_zero_at", Arity: 2, Storage: InPlace, Doc: "acc_zero_at(acc, i): acc[i] = 0 in place; returns acc",
		Class: Internal, Fails: MayFail,
		Type: func(args []Type, _ any) (Type, error) {
			if k, ok := Leaf(args[0]); !ok || k != F64 || Rank(args[0]) == 0 {
				return nil, fmt.Errorf("acc_zero_at: accumulator has type %s; want an array of f64", args[0])
			}
			if err := needKind("acc_zero_at", 1, args[1], I64); err != nil {
				return nil, err
			}
			return args[0], nil
		},
		Eval: func(s *Site) (Impl, error) {
			return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
				_, row, err := accRow(args)
				if err != nil {
					return errValue, err
				}
				clear(row)
				return args[0], m.Step(int64(len(row)))
			}, nil
		}})
	// PrimLoopSave runs a for loop and returns all its states: element 0 is
	// the initial state and element i+1 the state after iteration i.
	PrimLoopSave = Register(&Prim{Name: "loop_save", Arity: 3, NoDerivative: true, Doc: "loop_save(n, init, f): [init, f(0, init), f(1, f(0, init)), ...], n+1 states",
		Class: Internal, Fails: MayFail, Storage: Shared,
		Type: func(args []Type, _ any) (Type, error) {
			if err := needKind("loop_save", 0, args[0], I64); err != nil {
				return nil, err
			}
			f, err := needFunc("loop_save", 2, args[2], 2)
			if err != nil {
				return nil, err
			}
			if !Identical(f.Params[0], TI64) || !Equal(f.Params[1], args[1]) || !Equal(f.Result, args[1]) {
				return nil, fmt.Errorf("loop_save: body has type %s; want (i64, %s) -> %s", f, args[1], args[1])
			}
			return ArrayOf(Unknown, args[1]), nil
		},
		Eval: func(s *Site) (Impl, error) {
			st := newStacker("loop_save", s.Args[1])
			return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
				n := max(args[0].I, 0)
				f, err := function("loop_save", args[2])
				if err != nil {
					return errValue, err
				}
				state := args[1]
				a, err := st.Stack(m, int(n)+1, func(i int) (runtime.Value, error) {
					if i > 0 {
						state, err = call(m, f, runtime.I64(int64(i-1)), state)
					}
					return state, err
				})
				if err != nil {
					return errValue, err
				}
				return runtime.Arr(a), nil
			}, nil
		}})
	// PrimWhileSave runs a while loop and returns all its states, the
	// initial one first.
	PrimWhileSave = Register(&Prim{Name: "while_save", Arity: 3, NoDerivative: true, Doc: "while_save(init, cond, body): the states of loop s = init while cond(s) do body(s)",
		Class: Internal, Fails: MayFail, Storage: Shared,
		Type: func(args []Type, _ any) (Type, error) {
			c, err := needFunc("while_save", 1, args[1], 1)
			if err != nil {
				return nil, err
			}
			b, err := needFunc("while_save", 2, args[2], 1)
			if err != nil {
				return nil, err
			}
			if !Equal(c.Params[0], args[0]) || !Identical(c.Result, TBool) || !Equal(b.Params[0], args[0]) || !Equal(b.Result, args[0]) {
				return nil, fmt.Errorf("while_save: functions have types %s and %s; want %s -> bool and %s -> %s", c, b, args[0], args[0], args[0])
			}
			return ArrayOf(Unknown, args[0]), nil
		},
		Eval: func(s *Site) (Impl, error) {
			st := newStacker("while_save", s.Args[0])
			return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
				cond, err := function("while_save", args[1])
				if err != nil {
					return errValue, err
				}
				body, err := function("while_save", args[2])
				if err != nil {
					return errValue, err
				}
				states := []runtime.Value{args[0]}
				for {
					c, err := call(m, cond, states[len(states)-1])
					if err != nil {
						return errValue, err
					}
					if !c.AsBool() {
						break
					}
					next, err := call(m, body, states[len(states)-1])
					if err != nil {
						return errValue, err
					}
					states = append(states, next)
				}
				a, err := st.Stack(m, len(states), func(i int) (runtime.Value, error) { return states[i], nil })
				if err != nil {
					return errValue, err
				}
				return runtime.Arr(a), nil
			}, nil
		}})
)

// accRow returns the accumulator args[0] and its row args[1], checking
// the index.
func accRow(args []runtime.Value) (*runtime.Array, []float64, error) {
	acc := args[0].Array()
	i := args[1].I
	if err := runtime.CheckIndex(i, acc.Len()); err != nil {
		return nil, nil, err
	}
	rs := acc.RowSize()
	return acc, acc.F[int(i)*rs : int(i+1)*rs], nil
}
