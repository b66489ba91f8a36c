/**
 * Defaults of the global config's [observability] table, usable without loading the validator
 * (context.ts); schema.ts takes its defaults from here.
 */
export const OBSERVABILITY_DEFAULTS = {
  jaeger_image: "jaegertracing/jaeger:2.4.0",
  prometheus_image: "prom/prometheus:v3.1.0",
  grafana_image: "grafana/grafana:11.4.0",
  jaeger_ui_port: 16686,
  otlp_grpc_port: 4317,
  otlp_http_port: 4318,
  prometheus_port: 9090,
  grafana_port: 3000,
};
