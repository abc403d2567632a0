package tests

import (
	"bufio"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// gmmInstance is one input of the ADBench GMM objective: K components in
// dimension d, n points, and the Wishart prior (gamma, m).
type gmmInstance struct {
	name       string
	d, k, n    int
	alphas     []float64   // [K]
	means      [][]float64 // [K][d]
	icf        [][]float64 // [K][d(d+1)/2]
	x          [][]float64 // [n][d]
	gamma      float64
	m          int64
	fromShared bool // read from the shared ADBench files (else generated)
}

// gmmDataDir is where the ADBench instances live in this workspace (the
// repository's sibling directory shared/). NABLA_GMM_DATA overrides it.
func gmmDataDir() string {
	if d := os.Getenv("NABLA_GMM_DATA"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "shared", "data", "adbench-gmm")
}

// readGMM parses the ADBench text format: "d K n", then K lines of alpha,
// K lines of means, K lines of icf, n lines of points, and "gamma m".
func readGMM(path string) (*gmmInstance, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	sc.Split(bufio.ScanWords)
	next := func() (float64, error) {
		if !sc.Scan() {
			if err := sc.Err(); err != nil {
				return 0, err
			}
			return 0, fmt.Errorf("%s: unexpected end of file", path)
		}
		return strconv.ParseFloat(sc.Text(), 64)
	}
	vec := func(n int) ([]float64, error) {
		out := make([]float64, n)
		for i := range out {
			v, err := next()
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	head, err := vec(3)
	if err != nil {
		return nil, err
	}
	g := &gmmInstance{name: strings.TrimSuffix(filepath.Base(path), ".txt"), d: int(head[0]), k: int(head[1]), n: int(head[2]), fromShared: true}
	p := g.d * (g.d + 1) / 2
	if g.alphas, err = vec(g.k); err != nil {
		return nil, err
	}
	rows := func(r, c int) ([][]float64, error) {
		out := make([][]float64, r)
		for i := range out {
			if out[i], err = vec(c); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	if g.means, err = rows(g.k, g.d); err != nil {
		return nil, err
	}
	if g.icf, err = rows(g.k, p); err != nil {
		return nil, err
	}
	if g.x, err = rows(g.n, g.d); err != nil {
		return nil, err
	}
	tail, err := vec(2)
	if err != nil {
		return nil, err
	}
	g.gamma, g.m = tail[0], int64(tail[1])
	return g, nil
}

// randomGMM makes an instance of the given sizes with ADBench-like values.
func randomGMM(rng *rand.Rand, d, k, n int) *gmmInstance {
	g := &gmmInstance{name: fmt.Sprintf("gmm_%d_d%d_K%d_random", n, d, k), d: d, k: k, n: n, gamma: 1, m: 0}
	p := d * (d + 1) / 2
	vec := func(n int, scale float64) []float64 {
		out := make([]float64, n)
		for i := range out {
			out[i] = scale * (2*rng.Float64() - 1)
		}
		return out
	}
	g.alphas = vec(k, 1)
	for range k {
		g.means = append(g.means, vec(d, 1))
		g.icf = append(g.icf, vec(p, 1))
	}
	for range n {
		g.x = append(g.x, vec(d, 2))
	}
	return g
}

// loadGMM reads the shared instance name (gmm_1k_d2_K5, ...) or, when the
// file is not there, generates a random instance of the same sizes. The
// second result says which, for the log.
func loadGMM(name string, d, k, n int) (*gmmInstance, string) {
	path := filepath.Join(gmmDataDir(), name+".txt")
	g, err := readGMM(path)
	if err == nil {
		if g.d != d || g.k != k || g.n != n {
			panic(fmt.Sprintf("%s: sizes d=%d K=%d n=%d, want d=%d K=%d n=%d", path, g.d, g.k, g.n, d, k, n))
		}
		return g, "ADBench instance " + path
	}
	g = randomGMM(rand.New(rand.NewPCG(uint64(n), uint64(d))), d, k, n)
	g.name = name + "_random"
	return g, fmt.Sprintf("random instance of the same sizes (%v)", err)
}

// args returns the arguments of the Nabla defs gmm and gmm_grad.
func (g *gmmInstance) args() []any {
	return []any{g.alphas, g.means, g.icf, g.x, g.gamma, g.m}
}

// gmmObjective is the README's formula in plain float64 loops, the way
// ADBench's C++ reference computes it (Q_k (x - mu_k) column by column).
func gmmObjective(alphas []float64, means, icf, x [][]float64, gamma float64, m int64) float64 {
	k, n, d := len(alphas), len(x), len(means[0])
	lse := func(v []float64) float64 {
		mx := math.Inf(-1)
		for _, a := range v {
			mx = math.Max(mx, a)
		}
		s := 0.0
		for _, a := range v {
			s += math.Exp(a - mx)
		}
		return mx + math.Log(s)
	}
	sumq := make([]float64, k)
	for j := range k {
		for r := range d {
			sumq[j] += icf[j][r]
		}
	}
	data := 0.0
	terms := make([]float64, k)
	z := make([]float64, d)
	y := make([]float64, d)
	for i := range n {
		for j := range k {
			for r := range d {
				z[r] = x[i][r] - means[j][r]
				y[r] = math.Exp(icf[j][r]) * z[r]
			}
			idx := d
			for c := range d {
				for r := c + 1; r < d; r++ {
					y[r] += icf[j][idx] * z[c]
					idx++
				}
			}
			sq := 0.0
			for r := range d {
				sq += y[r] * y[r]
			}
			terms[j] = alphas[j] + sumq[j] - 0.5*sq
		}
		data += lse(terms)
	}
	prior := 0.0
	for j := range k {
		fro := 0.0
		for r := range d {
			e := math.Exp(icf[j][r])
			fro += e * e
		}
		for _, l := range icf[j][d:] {
			fro += l * l
		}
		prior += 0.5*gamma*gamma*fro - float64(m)*sumq[j]
	}
	bigN := float64(int64(d) + m + 1)
	lmg := 0.25 * float64(d*(d-1)) * math.Log(math.Pi)
	for j := 1; j <= d; j++ {
		lg, _ := math.Lgamma(0.5*bigN + 0.5*float64(1-j))
		lmg += lg
	}
	c := bigN*float64(d)*(math.Log(gamma)-0.5*math.Log(2)) - lmg
	return -0.5*float64(n*d)*math.Log(2*math.Pi) + data - float64(n)*lse(alphas) + prior - float64(k)*c
}
