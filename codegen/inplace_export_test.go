package codegen

// WithoutInPlace is opts with every exported function copying its matrix
// arguments (Options.noInPlace), for the external tests of inplace.go.
func WithoutInPlace(opts Options) Options {
	opts.noInPlace = true
	return opts
}
