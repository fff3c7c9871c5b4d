#!/usr/bin/env python3
"""Writes the fleet dashboard (grafana/claude-runner-fleet.json, with grafana-foundation-sdk)
and the kube-prometheus-stack PrometheusRule (prometheusrule.yaml, from
rules/claude-runner.rules.yaml) so both are code with one source each.

    .venv/bin/python deploy/monitoring/generate.py           # write
    .venv/bin/python deploy/monitoring/generate.py --check   # exit 1 if a checked-in file differs

Why the queries look as they do: the runner's metrics are one series set per session (the
runner pod is the OTel service.instance.id, Prometheus' `instance`), and a session may end
before Prometheus scrapes twice, where rate() and increase() see nothing. So totals over the
dashboard's range are sums of each series' maximum (`max_over_time(x[$__range])`): every
session counted once, at its final figure. Rates over time (`rate`) remain for trends, with
exemplars linking to the trace. The collector's own counters are matched with and without
`_total` (rules/claude-runner.rules.yaml says why).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml  # type: ignore[import-untyped]
from grafana_foundation_sdk.builders import dashboard, prometheus, stat, table, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DataSourceRef, VariableRefresh

HERE = Path(__file__).parent
RULES = HERE / "rules" / "claude-runner.rules.yaml"
DASHBOARD = HERE / "grafana" / "claude-runner-fleet.json"
PROMETHEUS_RULE = HERE / "prometheusrule.yaml"
DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")
P = 'agentic_session_project=~"$project"'
RANGE = "$__range"


def total(metric: str, by: str, match: str = "") -> str:
    """Each session's final figure, summed `by` labels, over the dashboard's range."""
    selector = ",".join(part for part in (match, P) if part)
    return f"sum by ({by}) (max_over_time({metric}{{{selector}}}[{RANGE}]))"


def quantile(q: float, metric: str, by: str, match: str = "") -> str:
    selector = ",".join(part for part in (match, P) if part)
    return (
        f"histogram_quantile({q}, sum by (le, {by}) "
        f"(max_over_time({metric}_bucket{{{selector}}}[{RANGE}])))"
    )


def otelcol(name: str) -> str:
    """A collector counter, with or without `_total`."""
    return f'{{__name__=~"{name}(_total)?"}}'


def per_second(name: str, by: str = "", zero: bool = False) -> str:
    """A collector counter's rate, summed `by` labels; `zero`: 0 before its first count."""
    grouping = f"by ({by}) " if by else ""
    expr = f"sum {grouping}(rate({otelcol(name)}[$__rate_interval]))"
    return f"{expr} or vector(0)" if zero else expr


def query(expr: str, legend: str, ref: str, *, instant: bool = False) -> prometheus.Dataquery:
    target = prometheus.Dataquery().expr(expr).legend_format(legend).ref_id(ref)
    return target.instant() if instant else target.range()


def series(
    title: str, unit: str, description: str, *targets: prometheus.Dataquery
) -> timeseries.Panel:
    panel = timeseries.Panel().title(title).unit(unit).description(description)
    panel = panel.datasource(DATASOURCE).height(8).span(12)
    for target in targets:
        panel = panel.with_target(target)
    return panel


def figure(title: str, unit: str, description: str, *targets: prometheus.Dataquery) -> stat.Panel:
    panel = stat.Panel().title(title).unit(unit).description(description)
    panel = panel.datasource(DATASOURCE).height(6).span(8)
    for target in targets:
        panel = panel.with_target(target)
    return panel


def listing(title: str, description: str, *targets: prometheus.Dataquery) -> table.Panel:
    panel = table.Panel().title(title).description(description)
    panel = panel.datasource(DATASOURCE).height(8).span(12)
    for target in targets:
        panel = panel.with_target(target)
    return panel


def fleet_dashboard() -> dashboard.Dashboard:
    cost = "agentic_session_cost_usd_total"
    sessions = "agentic_session_sessions_total"
    tokens = "agentic_session_tokens_total"
    tools = "agentic_session_tool_calls_total"
    duration = "gen_ai_client_operation_duration_seconds"
    failed = 'agentic_session_status=~"error|model_error|timeout"'
    board = (
        dashboard.Dashboard("claude-code-runner fleet")
        .uid("claude-runner-fleet")
        .description(
            "Cost, sessions, latency, cache, tools and telemetry health of a fleet of "
            "claude-code-runner sessions (deploy/monitoring/generate.py)."
        )
        .tags(["claude-code-runner", "genai"])
        .refresh("1m")
        .time("now-24h", "now")
        .with_variable(
            dashboard.DatasourceVariable("datasource").label("Prometheus").type("prometheus")
        )
        .with_variable(
            dashboard.QueryVariable("project")
            .label("Project")
            .datasource(DATASOURCE)
            .query(f"label_values({cost}, agentic_session_project)")
            .multi(True)
            .include_all(True)
            .all_value(".+")
            .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        )
    )
    board = board.with_row(dashboard.Row("Cost"))
    for title, by, legend, note in (
        ("Spend by project", "agentic_session_project", "{{agentic_session_project}}", ""),
        ("Spend by model", "gen_ai_request_model", "{{gen_ai_request_model}}", ""),
        ("Spend by user", "user_id", "{{user_id}}", " Needs RUNNER_METRICS_USER_LABEL=true."),
    ):
        board = board.with_panel(
            figure(
                title,
                "currencyUSD",
                f"What sessions cost over the range.{note}",
                query(total(cost, by), legend, "A", instant=True),
            )
        )
    board = board.with_panel(
        series(
            "24 h spend against the daily budget",
            "currencyUSD",
            "Each project's rolling 24-hour spend and its budget (ConfigMap project-budgets); "
            "the ClaudeRunnerProjectOverBudget alert fires where the first passes the second.",
            query(
                'project:agentic_session_cost_usd:sum_24h{project=~"$project"}',
                "{{project}} spent",
                "A",
            ),
            query(
                'max by (project) (claude_runner_project_budget_usd{project=~"$project"})',
                "{{project}} budget",
                "B",
            ),
        )
    )
    board = board.with_panel(
        series(
            "Spend rate",
            "currencyUSD",
            "USD per hour by project; exemplars link to the traces.",
            query(
                f"sum by (agentic_session_project) (rate({cost}{{{P}}}[$__rate_interval])) * 3600",
                "{{agentic_session_project}}",
                "A",
            ).exemplar(True),
        )
    )
    board = board.with_panel(
        listing(
            "Most expensive sessions",
            "Each session's cost so far (instance: its runner pod).",
            query(
                'topk(10, session:agentic_session_cost_usd:sum{project=~"$project"})',
                "{{project}} {{instance}}",
                "A",
                instant=True,
            ),
        )
    )
    board = board.with_row(dashboard.Row("Sessions"))
    board = board.with_panel(
        figure(
            "Sessions by outcome",
            "short",
            "Ended sessions by status over the range.",
            query(
                total(sessions, "agentic_session_status"),
                "{{agentic_session_status}}",
                "A",
                instant=True,
            ),
        )
    )
    board = board.with_panel(
        figure(
            "Budget stops",
            "short",
            "Sessions stopped at MAX_BUDGET_USD, by project.",
            query(
                total(
                    sessions, "agentic_session_project", 'agentic_session_status="budget_exceeded"'
                ),
                "{{agentic_session_project}}",
                "A",
                instant=True,
            ),
        )
    )
    board = board.with_panel(
        figure(
            "Failure rate",
            "percentunit",
            "Sessions ended in error, model_error or timeout, of all ended sessions.",
            query(
                f"(sum(max_over_time({sessions}{{{failed},{P}}}[{RANGE}])) or vector(0)) / "
                f"sum(max_over_time({sessions}{{{P}}}[{RANGE}]))",
                "failed",
                "A",
                instant=True,
            ),
        )
    )
    board = board.with_row(dashboard.Row("Latency"))
    board = board.with_panel(
        series(
            "LLM call duration",
            "s",
            "p50 and p95 of each LLM call, by model.",
            query(
                quantile(0.5, duration, "gen_ai_request_model", 'gen_ai_operation_name="chat"'),
                "p50 {{gen_ai_request_model}}",
                "A",
            ),
            query(
                quantile(0.95, duration, "gen_ai_request_model", 'gen_ai_operation_name="chat"'),
                "p95 {{gen_ai_request_model}}",
                "B",
            ),
        )
    )
    board = board.with_panel(
        series(
            "Time to first token",
            "s",
            "p50 and p95 from request to first streamed chunk.",
            query(
                quantile(
                    0.5,
                    "gen_ai_client_operation_time_to_first_chunk_seconds",
                    "gen_ai_request_model",
                ),
                "p50 {{gen_ai_request_model}}",
                "A",
            ),
            query(
                quantile(
                    0.95,
                    "gen_ai_client_operation_time_to_first_chunk_seconds",
                    "gen_ai_request_model",
                ),
                "p95 {{gen_ai_request_model}}",
                "B",
            ),
        )
    )
    board = board.with_panel(
        series(
            "Tool duration",
            "s",
            "p95 of each tool call, by tool.",
            query(
                quantile(
                    0.95, duration, "gen_ai_tool_name", 'gen_ai_operation_name="execute_tool"'
                ),
                "p95 {{gen_ai_tool_name}}",
                "A",
            ),
        )
    )
    board = board.with_row(dashboard.Row("Cache and context"))
    board = board.with_panel(
        figure(
            "Cache savings",
            "currencyUSD",
            "What prompt caching saved, and what cache writes cost before paying off "
            "(net = saved − overhead).",
            query(
                total("agentic_session_cache_savings_usd_total", "agentic_session_project"),
                "saved {{agentic_session_project}}",
                "A",
                instant=True,
            ),
            query(
                total("agentic_session_cache_overhead_usd_total", "agentic_session_project"),
                "overhead {{agentic_session_project}}",
                "B",
                instant=True,
            ),
        )
    )
    board = board.with_panel(
        figure(
            "Tokens by type",
            "short",
            "input includes cache_read and cache_write (the GenAI conventions' input).",
            query(total(tokens, "gen_ai_token_type"), "{{gen_ai_token_type}}", "A", instant=True),
        )
    )
    board = board.with_panel(
        figure(
            "Cache read share of input",
            "percentunit",
            "Input tokens served from the cache.",
            query(
                f'sum(max_over_time({tokens}{{gen_ai_token_type="cache_read",{P}}}[{RANGE}])) / '
                f'sum(max_over_time({tokens}{{gen_ai_token_type="input",{P}}}[{RANGE}]))',
                "cache read share",
                "A",
                instant=True,
            ),
        )
    )
    board = board.with_panel(
        series(
            "Context pressure",
            "percentunit",
            "p50 and p95 of the share of the model's context window each call used.",
            query(
                quantile(0.5, "agentic_session_context_utilization", "gen_ai_request_model"),
                "p50 {{gen_ai_request_model}}",
                "A",
            ),
            query(
                quantile(0.95, "agentic_session_context_utilization", "gen_ai_request_model"),
                "p95 {{gen_ai_request_model}}",
                "B",
            ),
        )
    )
    board = board.with_row(dashboard.Row("Tools"))
    board = board.with_panel(
        series(
            "Tool calls by tool and outcome",
            "short",
            "Over the range.",
            query(
                total(tools, "gen_ai_tool_name, agentic_session_tool_outcome"),
                "{{gen_ai_tool_name}} {{agentic_session_tool_outcome}}",
                "A",
            ),
        )
    )
    board = board.with_panel(
        listing(
            "Tool errors and permission denials",
            "Failed tool calls by outcome and permission decision; refused calls by project "
            "(the decision is known with RUNNER_CLI_TELEMETRY=true, else `unknown`).",
            query(
                total(
                    tools,
                    "gen_ai_tool_name, agentic_session_tool_outcome, "
                    "agentic_session_tool_permission_decision",
                    'agentic_session_tool_outcome!="success"',
                ),
                "",
                "A",
                instant=True,
            ),
            query(
                total(
                    tools,
                    "gen_ai_tool_name, agentic_session_project",
                    'agentic_session_tool_permission_decision="reject"',
                ),
                "",
                "B",
                instant=True,
            ),
        )
    )
    board = board.with_row(dashboard.Row("Telemetry health (the collector's own metrics, :8888)"))
    board = board.with_panel(
        series(
            "Spans accepted and refused",
            "short",
            "Per second. Refused: past the memory limit (the senders retry, then count).",
            query(
                f"sum(rate({otelcol('otelcol_receiver_accepted_spans')}[$__rate_interval]))",
                "accepted",
                "A",
            ),
            query(
                f"sum(rate({otelcol('otelcol_receiver_refused_spans')}[$__rate_interval]))",
                "refused",
                "B",
            ),
        )
    )
    board = board.with_panel(
        series(
            "Spans sent and dropped",
            "short",
            "Per second, by exporter. Failed: given up after retries, refused by the backend, "
            "or no project credential (config.projects.yaml); enqueue failed: queue full. "
            "0 until the collector has counted one.",
            query(
                per_second("otelcol_exporter_sent_spans", "exporter"),
                "sent {{exporter}}",
                "A",
            ),
            query(
                per_second("otelcol_exporter_send_failed_spans", "exporter", zero=True),
                "failed {{exporter}}",
                "B",
            ),
            query(
                per_second("otelcol_exporter_enqueue_failed_spans", "exporter", zero=True),
                "enqueue failed {{exporter}}",
                "C",
            ),
        )
    )
    board = board.with_panel(
        series(
            "Exporter queue",
            "percentunit",
            "How full each exporter's sending queue is.",
            query(
                "max by (exporter) (otelcol_exporter_queue_size / otelcol_exporter_queue_capacity)",
                "{{exporter}}",
                "A",
            ),
        )
    )
    board = board.with_panel(
        series(
            "Collector memory and CPU",
            "short",
            "RSS in bytes; CPU in cores.",
            query("max by (instance) (otelcol_process_memory_rss)", "RSS {{instance}}", "A"),
            query(
                per_second("otelcol_process_cpu_seconds", "instance"),
                "CPU {{instance}}",
                "B",
            ),
        )
    )
    return board


def prometheus_rule() -> str:
    """The rules file's groups as a PrometheusRule (kube-prometheus-stack selects rules by the
    `release` label: set it to your Helm release's name)."""
    rule = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": "claude-code-runner",
            "labels": {
                "app.kubernetes.io/name": "claude-code-runner",
                "release": "kube-prometheus-stack",
            },
        },
        "spec": yaml.safe_load(RULES.read_text()),
    }
    header = (
        "# Generated by deploy/monitoring/generate.py from rules/claude-runner.rules.yaml: "
        "edit that.\n"
    )
    return header + str(yaml.safe_dump(rule, sort_keys=False, width=200))


def outputs() -> dict[Path, str]:
    encoded = JSONEncoder(sort_keys=True, indent=2).encode(fleet_dashboard().build())
    return {DASHBOARD: encoded + "\n", PROMETHEUS_RULE: prometheus_rule()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, write nothing")
    args = parser.parse_args(argv)
    stale = []
    for path, text in outputs().items():
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    for path in stale:
        print(
            f"generate: {path} is not the generator's output: run deploy/monitoring/generate.py",
            file=sys.stderr,
        )
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
