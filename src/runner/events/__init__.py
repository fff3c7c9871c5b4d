"""Runner events: SDK messages, hook inputs, subagent transcripts and the CLI's own telemetry
records, each interpreted once (`sdk_adapter`, `cli_adapter`, `subagent_threads`,
`transcripts`) into the typed events of `types` that every later stage consumes."""
