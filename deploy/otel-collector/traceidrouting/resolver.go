package traceidroutingexporter

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
)

// resolveFunc returns the replicas' endpoints now: host:port, distinct, sorted.
type resolveFunc func(ctx context.Context) ([]string, error)

// resolverFor builds the resolver the config asks for; static lists never change.
func resolverFor(cfg *Config) resolveFunc {
	if cfg.Resolver.DNS != nil {
		return dnsResolver(cfg.Resolver.DNS)
	}
	endpoints := cfg.Endpoints
	if cfg.Resolver.Static != nil {
		endpoints = cfg.Resolver.Static.Endpoints
	}
	fixed := normalise(endpoints)
	return func(context.Context) ([]string, error) { return fixed, nil }
}

// dnsResolver resolves the hostname afresh each call (Go's resolver keeps no cache), through
// the configured nameserver when there is one.
func dnsResolver(cfg *DNSConfig) resolveFunc {
	lookup := net.DefaultResolver
	if cfg.Nameserver != "" {
		nameserver := cfg.Nameserver
		lookup = &net.Resolver{
			PreferGo: true,
			Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
				var dialer net.Dialer
				return dialer.DialContext(ctx, network, nameserver)
			},
		}
	}
	port := strconv.Itoa(cfg.Port)
	return func(ctx context.Context) ([]string, error) {
		addrs, err := lookup.LookupIPAddr(ctx, cfg.Hostname)
		if err != nil {
			return nil, fmt.Errorf("resolving %s: %w", cfg.Hostname, err)
		}
		if len(addrs) == 0 {
			return nil, errors.New("resolving " + cfg.Hostname + ": no address")
		}
		endpoints := make([]string, 0, len(addrs))
		for _, addr := range addrs {
			endpoints = append(endpoints, net.JoinHostPort(addr.IP.String(), port))
		}
		return normalise(endpoints), nil
	}
}

func normalise(endpoints []string) []string {
	seen := map[string]bool{}
	out := make([]string, 0, len(endpoints))
	for _, endpoint := range endpoints {
		if endpoint != "" && !seen[endpoint] {
			seen[endpoint] = true
			out = append(out, endpoint)
		}
	}
	sort.Strings(out)
	return out
}
