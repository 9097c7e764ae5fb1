"""Pure computations on counts (numpy, no file I/O): power-law fits of growth curves
(:mod:`.fit`), the paper's bounds (:mod:`.bounds`), a fit against the band (:mod:`.band`), the
overlap of sketches (:mod:`.overlap`), and theta-sketch set operations with DataSketches'
estimators and bounds (:mod:`.theta`, :mod:`.theta_bounds`)."""
