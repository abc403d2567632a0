// Package tests holds end-to-end tests of Nabla's automatic
// differentiation and its benchmarks; it has no API.
//
// ad_test.go differentiates small programs (testdata/*.nab) that use every
// construct reverse and forward mode must go through, at random points,
// and checks the results against finite differences (gonum's diff/fd),
// against each other (⟨J v, w⟩ = ⟨v, Jᵀ w⟩), and second derivatives
// against finite differences of the gradient and hyper-dual numbers.
// optfuncs_test.go checks Nabla versions of gonum's optimization test
// functions against gonum's hand-written gradients and Hessians, and
// gmm_test.go the ADBench Gaussian mixture objective against a direct Go
// implementation.
//
// bench_test.go measures f and grad(f) for Rosenbrock and the GMM
// objective (go test -bench . ./tests); cmd/nablabench prints the same
// comparison as a table (docs/benchmarks.md).
package tests
