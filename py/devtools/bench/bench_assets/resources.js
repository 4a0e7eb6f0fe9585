// Evaluated in a page once its load is measured: every file it fetched, as resource
// timing saw it (same clock as the probe: 0 = navigation start), the page itself first.
// [URL, startTime, responseEnd, transferSize]: transferSize is the bytes over the wire,
// headers included, 0 for a file from the cache.
() => [...performance.getEntriesByType("navigation"), ...performance.getEntriesByType("resource")]
  .map((entry) => [entry.name, entry.startTime, entry.responseEnd, entry.transferSize])
