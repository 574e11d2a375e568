// Lists the metric names that eduaid's alerts and dashboards use.
//
//   node promql_names.mjs [ROOT]     (default: the repository root)
//
// Reads every PromQL expression under ROOT/k8s (PrometheusRule objects:
// rules[].expr) and ROOT/deploy (Grafana dashboards: targets[].expr and
// templating queries; Prometheus rule files: rules[].expr) and prints one
// line per metric name: "NAME<TAB>FILE". Recording rules defined in the same
// files (names with ':') are printed as "record:NAME<TAB>FILE" when defined
// and "NAME<TAB>FILE" when used, so the caller can tell them apart.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import yaml from "js-yaml";

const root = process.argv[2] || join(dirname(fileURLToPath(import.meta.url)), "../..");

function* walk(dir) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const e of entries) {
    if (e === "node_modules" || e.startsWith(".")) continue;
    const p = join(dir, e);
    if (statSync(p).isDirectory()) yield* walk(p);
    else yield p;
  }
}

const KEYWORDS = new Set([
  "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
  "offset", "bool", "inf", "nan", "atan2", "start", "end",
]);

// Metric names in one PromQL expression: identifiers that are not function
// calls, keywords, label names (inside {...} or by/on/... lists) or strings.
export function metricNames(expr) {
  let s = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""') // strings
    .replace(/\{[^{}]*\}/g, " ") // label matchers
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ") // label lists
    .replace(/\[[^\]]*\]/g, " ") // ranges and subqueries
    .replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/g, " "); // Grafana variables ($__rate_interval)
  const names = new Set();
  for (const m of s.matchAll(/(?<![A-Za-z0-9_:.])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?/g)) {
    const [, id, call] = m;
    if (call || KEYWORDS.has(id.toLowerCase())) continue;
    if (/^\d/.test(id)) continue;
    names.add(id);
  }
  return [...names];
}

function exprsOfYaml(text) {
  const out = [];
  for (const doc of yaml.loadAll(text)) {
    if (!doc || typeof doc !== "object") continue;
    const groups = doc.kind === "PrometheusRule" ? doc.spec?.groups : doc.groups;
    for (const g of groups || []) {
      for (const r of g.rules || []) {
        if (r.record) out.push({ record: r.record });
        if (r.expr) out.push({ expr: String(r.expr) });
      }
    }
  }
  return out;
}

function exprsOfJson(text) {
  const out = [];
  const visit = (v, key) => {
    if (Array.isArray(v)) v.forEach((x) => visit(x));
    else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) visit(x, k);
    else if (typeof v === "string" && (key === "expr" || key === "query" || key === "definition")) {
      // Grafana label_values(metric, label) / query_result(expr)
      const lv = v.match(/^\s*label_values\(\s*([^,)]+)/);
      if (lv) out.push({ expr: lv[1] });
      else if (/^\s*query_result\((.*)\)\s*$/.test(v)) out.push({ expr: v.replace(/^\s*query_result\((.*)\)\s*$/, "$1") });
      else if (key === "expr") out.push({ expr: v });
    }
  };
  visit(JSON.parse(text));
  return out;
}

const lines = new Set();
for (const dir of ["k8s", "deploy"]) {
  for (const file of walk(join(root, dir))) {
    let items = [];
    const text = readFileSync(file, "utf8");
    if (/\.ya?ml$/.test(file)) {
      if (!/groups:|PrometheusRule/.test(text)) continue;
      try {
        items = exprsOfYaml(text);
      } catch {
        continue; // a kustomize patch or another non-rule YAML
      }
    } else if (/\.json$/.test(file)) {
      try {
        items = exprsOfJson(text);
      } catch (e) {
        console.error(`${relative(root, file)}: ${e.message}`);
        process.exit(2);
      }
    } else continue;
    for (const it of items) {
      if (it.record) lines.add(`record:${it.record}\t${relative(root, file)}`);
      else for (const n of metricNames(it.expr)) lines.add(`${n}\t${relative(root, file)}`);
    }
  }
}
for (const l of [...lines].sort()) console.log(l);
