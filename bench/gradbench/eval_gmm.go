package gradbench

import (
	"encoding/json"
	"fmt"

	"github.com/nabla-lang/nabla/runtime"
)

func init() {
	register(&eval{name: "gmm", decode: decodeGMM, funcs: map[string]*function{
		"objective": fn("objective", encodeNumber),
		"jacobian":  fn("jacobian", encodeGMMGradient),
	}})
}

// decodeGMM reads {d, k, n, x, m, gamma, alpha, mu, q, l} into the
// arguments (x, m, gamma, alpha, mu, q, l), checking every shape against d,
// k and n.
func decodeGMM(raw json.RawMessage) (*input, error) {
	var in map[string]json.RawMessage
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, err
	}
	var d, k, n, m int
	var gamma float64
	var x, mu, q, l [][]float64
	var alpha []float64
	for _, f := range []struct {
		name string
		dst  any
	}{{"d", &d}, {"k", &k}, {"n", &n}, {"m", &m}, {"gamma", &gamma}, {"x", &x}, {"alpha", &alpha}, {"mu", &mu}, {"q", &q}, {"l", &l}} {
		if err := field(in, f.name, f.dst); err != nil {
			return nil, err
		}
	}
	if d < 1 || k < 1 || n < 0 || m < 0 {
		return nil, fmt.Errorf("want d >= 1, k >= 1, n >= 0 and m >= 0, got d = %d, k = %d, n = %d, m = %d", d, k, n, m)
	}
	if len(x) != n {
		return nil, fmt.Errorf("x has %d rows, want n = %d", len(x), n)
	}
	if len(alpha) != k || len(mu) != k || len(q) != k || len(l) != k {
		return nil, fmt.Errorf("alpha, mu, q and l have %d, %d, %d and %d rows, want k = %d", len(alpha), len(mu), len(q), len(l), k)
	}
	args := []runtime.Value{{}, i64v(m), f64v(gamma), vec(alpha), {}, {}, {}}
	var err error
	for _, a := range []struct {
		i    int
		name string
		rows [][]float64
		cols int
	}{{0, "x", x, d}, {4, "mu", mu, d}, {5, "q", q, d}, {6, "l", l, d * (d - 1) / 2}} {
		if args[a.i], err = f64Matrix(a.name, a.rows, a.cols); err != nil {
			return nil, err
		}
	}
	return &input{args: args}, nil
}

// encodeGMMGradient writes the gradient tuple (alpha, mu, q, l) as the
// object the eval expects.
func encodeGMMGradient(b []byte, v runtime.Value, _ *input) ([]byte, error) {
	t, err := tuple(v, 4)
	if err != nil {
		return b, err
	}
	for i, name := range []string{"alpha", "mu", "q", "l"} {
		if i == 0 {
			b = append(b, '{')
		} else {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, `":`...)
		a := t[i].Array()
		if a == nil {
			return b, fmt.Errorf("gradient part %s is not an array", name)
		}
		if b, err = appendArray(b, a); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}
