// Prints the rule groups of the PrometheusRule objects in a rendered
// manifest (or in the given YAML files) as a Prometheus rule file, for
// promtool and for a local Prometheus:
//   kubectl kustomize k8s/overlays/prod | node tests/deploy/extract_rules.mjs > eduaid.rules.yml
import { readFileSync } from "node:fs";
import yaml from "js-yaml";

const inputs = process.argv.slice(2);
const text = inputs.length ? inputs.map((f) => readFileSync(f, "utf8")).join("\n---\n") : readFileSync(0, "utf8");
const groups = [];
for (const d of yaml.loadAll(text)) {
  if (d && d.kind === "PrometheusRule") groups.push(...d.spec.groups);
}
if (groups.length === 0) {
  console.error("no PrometheusRule found");
  process.exit(1);
}
process.stdout.write(yaml.dump({ groups }, { lineWidth: 200 }));
