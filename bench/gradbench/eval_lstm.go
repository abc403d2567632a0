package gradbench

import (
	"encoding/json"
	"fmt"

	"github.com/nabla-lang/nabla/runtime"
)

func init() {
	register(&eval{name: "lstm", decode: decodeLSTM, funcs: map[string]*function{
		"objective": fn("objective", encodeNumber),
		// The gradient's two parts, flattened row after row, main_params
		// first.
		"jacobian": fn("jacobian", encodeFlat),
	}})
}

// decodeLSTM reads {main_params: [2l][4b], extra_params: [3][b],
// state: [2l][b], sequence: [c][b]}.
func decodeLSTM(raw json.RawMessage) (*input, error) {
	var in map[string]json.RawMessage
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, err
	}
	var mp, ep, st, seq [][]float64
	for _, f := range []struct {
		name string
		dst  *[][]float64
	}{{"main_params", &mp}, {"extra_params", &ep}, {"state", &st}, {"sequence", &seq}} {
		if err := field(in, f.name, f.dst); err != nil {
			return nil, err
		}
	}
	if len(ep) != 3 {
		return nil, fmt.Errorf("extra_params has %d rows, want 3", len(ep))
	}
	b := len(ep[0])
	if len(mp)%2 != 0 || len(mp) == 0 || len(st) != len(mp) {
		return nil, fmt.Errorf("main_params and state must have the same even number of rows (two per layer), got %d and %d", len(mp), len(st))
	}
	if len(seq) < 1 {
		return nil, fmt.Errorf("sequence is empty")
	}
	args := make([]runtime.Value, 4)
	var err error
	for i, a := range []struct {
		name string
		rows [][]float64
		cols int
	}{{"main_params", mp, 4 * b}, {"extra_params", ep, b}, {"state", st, b}, {"sequence", seq, b}} {
		if args[i], err = f64Matrix(a.name, a.rows, a.cols); err != nil {
			return nil, err
		}
	}
	return &input{args: args}, nil
}
