"""Tree nodes → span attributes, what every backend sees: `spans` (per node kind), `parts`
(shared pieces), `semconv` (every attribute name, in one place), `content` (capture policy,
redaction and truncation)."""
