// Package traceidroutingexporter sends every span of a trace to the same one of a fixed set of
// OTLP/gRPC endpoints (the replicas of a tail-sampling tier), chosen by rendezvous hashing of
// the trace id, so each replica sees whole traces. Written for claude-code-runner's collector
// distribution: the upstream loadbalancing exporter is not available to its build.
package traceidroutingexporter

import (
	"errors"

	"go.opentelemetry.io/collector/component"
)

// Config lists the endpoints; each is exported to with the OTLP/gRPC exporter's defaults
// (in-memory sending queue, retry on failure).
type Config struct {
	// Endpoints are host:port OTLP/gRPC endpoints, one per replica of the next tier.
	Endpoints []string `mapstructure:"endpoints"`
	// Insecure turns TLS off towards the endpoints (in-cluster plaintext).
	Insecure bool `mapstructure:"insecure"`
}

var _ component.Config = (*Config)(nil)

// Validate checks that there is somewhere to send to.
func (c *Config) Validate() error {
	if len(c.Endpoints) == 0 {
		return errors.New("traceidrouting: endpoints must list at least one host:port")
	}
	seen := map[string]bool{}
	for _, endpoint := range c.Endpoints {
		if endpoint == "" || seen[endpoint] {
			return errors.New("traceidrouting: endpoints must be distinct and non-empty")
		}
		seen[endpoint] = true
	}
	return nil
}
