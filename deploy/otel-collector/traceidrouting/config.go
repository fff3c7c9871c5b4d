// Package traceidroutingexporter sends every span of a trace to the same one of a set of
// OTLP/gRPC endpoints (the replicas of a tail-sampling tier), chosen by rendezvous hashing of
// the trace id over the current set, so each replica sees whole traces. The set is either a
// static list or what a DNS name (a headless Service) resolves to, re-resolved periodically,
// so scaling the sampling tier needs no config edit. Written for claude-code-runner's
// collector distribution.
package traceidroutingexporter

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
)

// Config: where the replicas are, and how traces keep theirs.
type Config struct {
	// Endpoints are host:port OTLP/gRPC endpoints, one per replica: the same as
	// resolver.static.endpoints (kept for configs written before the resolver option).
	Endpoints []string `mapstructure:"endpoints"`
	// Resolver finds the replicas: a static list or a DNS name. Exactly one way must be set.
	Resolver ResolverConfig `mapstructure:"resolver"`
	// Insecure turns TLS off towards the endpoints (in-cluster plaintext).
	Insecure bool `mapstructure:"insecure"`
	// TraceAffinity: a trace id keeps the replica its first span went to, while that replica
	// is in the set, until no span of it has come for this long; so a replica added while a
	// session runs takes only new traces. 0: the default (30m); negative: off.
	TraceAffinity time.Duration `mapstructure:"trace_affinity"`
	// MaxAffinityEntries bounds the trace ids remembered (about 100 bytes each); past it, new
	// traces are routed by the hash alone. 0: the default (200000).
	MaxAffinityEntries int `mapstructure:"max_affinity_entries"`
}

// ResolverConfig holds one of the two ways of finding the replicas.
type ResolverConfig struct {
	Static *StaticConfig `mapstructure:"static"`
	DNS    *DNSConfig    `mapstructure:"dns"`
}

// StaticConfig is a fixed list of host:port endpoints.
type StaticConfig struct {
	Endpoints []string `mapstructure:"endpoints"`
}

// DNSConfig: every address the hostname resolves to (A and AAAA records, e.g. a headless
// Service's ready pods) is a replica at Port.
type DNSConfig struct {
	Hostname string `mapstructure:"hostname"`
	Port     int    `mapstructure:"port"`
	// Interval between resolutions. 0: 5s.
	Interval time.Duration `mapstructure:"interval"`
	// Timeout of one resolution. 0: 1s.
	Timeout time.Duration `mapstructure:"timeout"`
	// Nameserver (host:port) to ask instead of the system's resolver configuration; empty:
	// the system's (/etc/resolv.conf, /etc/hosts). Tests point it at a local DNS server.
	Nameserver string `mapstructure:"nameserver"`
}

const (
	defaultInterval      = 5 * time.Second
	defaultTimeout       = time.Second
	defaultTraceAffinity = 30 * time.Minute
	defaultMaxAffinity   = 200000
)

var _ component.Config = (*Config)(nil)

// Validate checks that exactly one way of finding the replicas is set, and that it can work.
func (c *Config) Validate() error {
	ways := 0
	if len(c.Endpoints) > 0 {
		ways++
	}
	if c.Resolver.Static != nil {
		ways++
	}
	if c.Resolver.DNS != nil {
		ways++
	}
	if ways != 1 {
		return errors.New("traceidrouting: set exactly one of endpoints, resolver.static or " +
			"resolver.dns (e.g. resolver: {dns: {hostname: otelcol-sampler, port: 4317}})")
	}
	if dns := c.Resolver.DNS; dns != nil {
		if strings.TrimSpace(dns.Hostname) == "" {
			return errors.New("traceidrouting: resolver.dns.hostname is empty: set it to the " +
				"sampling tier's headless Service name")
		}
		if dns.Port <= 0 || dns.Port > 65535 {
			return fmt.Errorf("traceidrouting: resolver.dns.port %d is not a port: set it to "+
				"the replicas' OTLP/gRPC port (e.g. 4317)", dns.Port)
		}
		if dns.Interval < 0 || dns.Timeout < 0 {
			return errors.New("traceidrouting: resolver.dns.interval and timeout must not be negative")
		}
		return nil
	}
	endpoints := c.Endpoints
	if c.Resolver.Static != nil {
		endpoints = c.Resolver.Static.Endpoints
	}
	if len(endpoints) == 0 {
		return errors.New("traceidrouting: endpoints must list at least one host:port")
	}
	seen := map[string]bool{}
	for _, endpoint := range endpoints {
		if endpoint == "" || seen[endpoint] {
			return errors.New("traceidrouting: endpoints must be distinct and non-empty")
		}
		seen[endpoint] = true
	}
	return nil
}

func (c *Config) affinity() time.Duration {
	if c.TraceAffinity == 0 {
		return defaultTraceAffinity
	}
	return c.TraceAffinity
}

func (c *Config) maxAffinity() int {
	if c.MaxAffinityEntries <= 0 {
		return defaultMaxAffinity
	}
	return c.MaxAffinityEntries
}
