"""Exporters: settings decided once from the environment (`settings`, `environment_variables`,
`destinations`, `routes`), the providers and their bounded shutdown (`pipeline`, `exporters`,
`metric_exporter`), delivery reports (`delivery`) and the CLI's own telemetry environment
(`cli_environment`)."""
