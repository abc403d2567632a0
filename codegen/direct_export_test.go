package codegen

// WithoutDirect is opts with every exported function calling its def's
// internal function (Options.noDirect), for the external tests of
// direct.go.
func WithoutDirect(opts Options) Options {
	opts.noDirect = true
	return opts
}
