"""Pure computations on counts (numpy, no file I/O): power-law fits of growth curves
(:mod:`.fit`), the paper's bounds (:mod:`.bounds`), a fit against the band (:mod:`.band`), and
the overlap of sketches (:mod:`.overlap`)."""
