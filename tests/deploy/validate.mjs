// Offline validation of rendered Kubernetes manifests (kubectl kustomize output).
//
//   node validate.mjs [--profile prod|dev|none] NAME rendered.yaml
//
// 1. Schema: every object is mapped from apiVersion/kind to its model in
//    kubernetes-models, @kubernetes-models/prometheus-operator or
//    @kubernetes-models/cloudnative-pg and validated (types, required fields,
//    enums). An object of a kind no model knows is an error.
// 2. Unknown fields: the models' TypeScript interfaces are used to type-check
//    every object as an object literal (tsc --noEmit), so a misspelt field
//    (readOnlyRootFileSystem) is an error too, which schema validation alone
//    lets through.
// 3. eduaid's own rules (see checkSuite): gRPC probes on the health ports,
//    ports and flags that match the public contract, hardening, secrets as
//    files, a drain that fits in the termination grace period, and for prod:
//    HPA, PDB, NetworkPolicies that make each service reachable only by its
//    callers, ServiceMonitor, PrometheusRule with the alerts the runbook
//    documents, the CloudNativePG Cluster and a persistent Redis; Redis with
//    TLS only, client certificates and a password from a Secret, reached by
//    each service through its pod's TLS sidecar (stunnel on 127.0.0.1,
//    verifying Redis's certificate) with the password from that Secret;
//    HS256 refused (--jwt-allow-hs256=false) by every service.
import { readFileSync, writeFileSync, mkdtempSync, rmSync, existsSync } from "node:fs";
import { join, dirname } from "node:path";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import yaml from "js-yaml";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
let profile = "none";
if (args[0] === "--profile") {
  profile = args[1];
  args.splice(0, 2);
}
const [name, file] = args;
if (!file) {
  console.error("usage: node validate.mjs [--profile prod|dev|none] NAME rendered.yaml");
  process.exit(2);
}

let errors = [];
const fail = (msg) => errors.push(msg);
let docs = yaml.loadAll(readFileSync(file, "utf8")).filter((d) => d);
const id = (d) => `${d.kind}/${d.metadata?.name ?? "?"}`;

// ---- 1. schema validation -------------------------------------------------
function modelPath(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  if (group === "monitoring.coreos.com") {
    return `@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`;
  }
  if (group === "postgresql.cnpg.io") {
    return `@kubernetes-models/cloudnative-pg/${group}/${version}/${kind}`;
  }
  return group === "" ? `kubernetes-models/${version}/${kind}` : `kubernetes-models/${group}/${version}/${kind}`;
}

async function schemaCheck() {
  const models = [];
  for (const [i, d] of docs.entries()) {
    if (!d.apiVersion || !d.kind) {
      fail(`document ${i}: no apiVersion/kind`);
      models.push(null);
      continue;
    }
    const path = modelPath(d.apiVersion, d.kind);
    let mod;
    try {
      mod = await import(path);
    } catch (e) {
      fail(`${id(d)}: no schema for ${d.apiVersion} ${d.kind} (${path})`);
      models.push(null);
      continue;
    }
    const Model = mod[d.kind];
    models.push({ path, kind: d.kind });
    try {
      new Model(d).validate();
    } catch (e) {
      const details = (e.errors || []).map((x) => `${x.instancePath || "/"} ${x.message}`).join("; ");
      fail(`${id(d)}: schema: ${details || e.message}`);
    }
  }
  return models;
}

// ---- 2. unknown fields, by the models' TypeScript interfaces -------------
function typeCheck(models) {
  // Inside node_modules (ignored by git) so that module resolution finds
  // the models.
  const dir = mkdtempSync(join(here, "node_modules", ".eduaid-typecheck-"));
  let src = "";
  const ranges = [];
  let line = 1;
  for (const [i, d] of docs.entries()) {
    if (!models[i]) continue;
    const iface = `I${d.kind}`;
    const body = JSON.stringify(d, null, 1);
    const chunk =
      `import type { ${iface} as T${i} } from "${models[i].path}";\n` +
      `export const doc${i}: T${i} = ${body};\n`;
    const lines = chunk.split("\n").length - 1;
    ranges.push({ from: line, to: line + lines - 1, what: id(d) });
    line += lines;
    src += chunk;
  }
  const ts = join(dir, "rendered.mts");
  writeFileSync(ts, src);
  try {
    execFileSync(
      process.execPath,
      [join(here, "node_modules/typescript/bin/tsc"), "--noEmit", "--strict", "--skipLibCheck",
        "--target", "es2022", "--module", "nodenext", "--moduleResolution", "nodenext",
        ts],
      { cwd: here, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
    );
  } catch (e) {
    const out = `${e.stdout || ""}${e.stderr || ""}`;
    const lines = out.split("\n").filter((l) => /error TS/.test(l));
    if (lines.length === 0) fail(`type check failed: ${out.slice(0, 2000)}`);
    for (const l of lines) {
      const m = l.match(/\((\d+),\d+\): error (TS\d+: .*)/);
      const n = m ? Number(m[1]) : 0;
      const r = ranges.find((x) => n >= x.from && n <= x.to);
      fail(`${r ? r.what : "?"}: ${m ? m[2] : l}`);
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

// ---- 3. eduaid's rules -----------------------------------------------------
const SERVICES = {
  registry: { port: 50051, grpc: "eduaid.registry.v1.StudentRegistryService", peers: [] },
  // ledger's default policy path is relative to the working directory: the
  // image's copy must be named.
  ledger: { port: 50052, grpc: "eduaid.ledger.v1.SubsidyLedgerService", peers: ["registry"], flags: ["--policy"] },
  teacher: { port: 50053, grpc: "eduaid.teacher.v1.TeacherSupportService", peers: ["registry", "ledger"] },
  vocational: {
    port: 50054,
    grpc: "eduaid.vocational.v1.VocationalTrainingService",
    peers: ["registry", "ledger"],
  },
};
const metricsPort = (s) => SERVICES[s].port - 50051 + 9101;
const healthPort = (s) => SERVICES[s].port + 100;
const of = (kind) => docs.filter((d) => d.kind === kind);
const find = (kind, n) => docs.find((d) => d.kind === kind && d.metadata?.name === n);

// The value of a flag given as "--name=value" or as "--name" "value".
function flag(argv, name) {
  const list = argv || [];
  const i = list.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (i < 0) return undefined;
  return list[i] === name ? list[i + 1] ?? "" : list[i].slice(name.length + 1);
}

function checkHardening(w) {
  const pod = w.spec.template.spec;
  const psc = pod.securityContext || {};
  if (psc.runAsNonRoot !== true) fail(`${id(w)}: pod securityContext.runAsNonRoot must be true`);
  if (psc.seccompProfile?.type !== "RuntimeDefault") fail(`${id(w)}: pod seccompProfile must be RuntimeDefault`);
  for (const c of [...(pod.initContainers || []), ...pod.containers]) {
    const sc = c.securityContext || {};
    if (sc.allowPrivilegeEscalation !== false) fail(`${id(w)}/${c.name}: allowPrivilegeEscalation must be false`);
    if (sc.readOnlyRootFilesystem !== true) fail(`${id(w)}/${c.name}: readOnlyRootFilesystem must be true`);
    if (!(sc.capabilities?.drop || []).includes("ALL")) fail(`${id(w)}/${c.name}: capabilities must drop ALL`);
    if (sc.privileged) fail(`${id(w)}/${c.name}: privileged`);
    for (const kind of ["requests", "limits"]) {
      for (const r of ["cpu", "memory"]) {
        if (kind === "limits" && r === "cpu" && c.resources?.limits?.memory === undefined) continue;
        if (!c.resources?.[kind]?.[r]) fail(`${id(w)}/${c.name}: resources.${kind}.${r} missing`);
      }
    }
    if (/:latest$/.test(c.image) || !/[:@]/.test(c.image.split("/").pop())) {
      fail(`${id(w)}/${c.name}: image ${c.image} has no pinned tag or digest`);
    }
    const mounts = new Set((pod.volumes || []).map((v) => v.name));
    const claims = new Set((w.spec.volumeClaimTemplates || []).map((v) => v.metadata.name));
    for (const m of c.volumeMounts || []) {
      if (!mounts.has(m.name) && !claims.has(m.name)) fail(`${id(w)}/${c.name}: volumeMount ${m.name} has no volume`);
    }
  }
}

function checkService(svc) {
  const s = SERVICES[svc];
  const dep = find("Deployment", `eduaid-${svc}`);
  if (!dep) return fail(`Deployment eduaid-${svc} missing`);
  checkHardening(dep);
  const pod = dep.spec.template.spec;
  const c = pod.containers.find((x) => x.name === svc);
  if (!c) return fail(`${id(dep)}: no container named ${svc}`);
  const argv = c.args || [];
  const want = {
    "--grpc-port": String(s.port),
    "--metrics-port": String(metricsPort(svc)),
    "--health-port": String(healthPort(svc)),
  };
  for (const [f, v] of Object.entries(want)) {
    if (flag(argv, f) !== v) fail(`${id(dep)}: ${f} must be ${v} (is ${flag(argv, f)})`);
  }
  for (const a of argv) {
    if (/^--[a-z-]+=$/.test(a)) fail(`${id(dep)}: "${a}" has an empty value; the flag parser refuses it (use "--flag" "" as two items)`);
  }
  for (const p of s.peers) {
    if (flag(argv, `--${p}`) === undefined) fail(`${id(dep)}: no --${p} peer flag`);
  }
  for (const f of s.flags || []) {
    if (flag(argv, f) === undefined) fail(`${id(dep)}: no ${f} flag`);
  }
  // $(VAR) in args must be defined by env or by a ConfigMap from envFrom.
  const env = new Set((c.env || []).map((e) => e.name));
  for (const ef of c.envFrom || []) {
    const cm = ef.configMapRef && find("ConfigMap", ef.configMapRef.name);
    if (ef.configMapRef && !cm) fail(`${id(dep)}: envFrom ConfigMap ${ef.configMapRef.name} is not rendered`);
    for (const k of Object.keys(cm?.data || {})) env.add(k);
  }
  const cmData = {};
  for (const ef of c.envFrom || []) Object.assign(cmData, find("ConfigMap", ef.configMapRef?.name)?.data || {});
  for (const a of argv) {
    for (const m of a.matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)) {
      if (!env.has(m[1])) fail(`${id(dep)}: arg ${a} refers to undefined variable ${m[1]}`);
    }
    // Files the image ships (deploy/docker/Dockerfile copies policy/ to
    // /usr/share/eduaid/policy) must exist in the repository.
    const value = a.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, v) => cmData[v] ?? m);
    for (const f of value.split(",")) {
      const m = f.match(/^\/usr\/share\/eduaid\/(policy\/.+)$/);
      if (m && !existsSync(join(here, "../..", m[1]))) fail(`${id(dep)}: ${f} is not in the image (no ${m[1]} in the repository)`);
    }
  }
  // Keys as files from Secrets, never literal values in the manifest.
  if (!flag(argv, "--data-key-file")) fail(`${id(dep)}: --data-key-file missing`);
  for (const e of c.env || []) {
    if (/KEY|SECRET|PASSWORD|TOKEN/.test(e.name) && e.value !== undefined) {
      fail(`${id(dep)}: ${e.name} has a literal value; take it from a Secret`);
    }
  }
  const dataKeyPath = flag(argv, "--data-key-file") || "";
  const dkMount = (c.volumeMounts || []).find((m) => dataKeyPath.startsWith(`${m.mountPath}/`));
  const dkVol = dkMount && pod.volumes.find((v) => v.name === dkMount.name);
  if (!dkVol?.secret) fail(`${id(dep)}: the data key must come from a Secret volume`);
  if (dkMount?.subPath) fail(`${id(dep)}: Secret mounted with subPath never sees a rotation`);
  // gRPC probes on the plaintext health port.
  for (const probe of ["readinessProbe", "livenessProbe"]) {
    const p = c[probe];
    if (!p?.grpc) fail(`${id(dep)}: ${probe} must be a native gRPC probe`);
    else if (p.grpc.port !== healthPort(svc)) fail(`${id(dep)}: ${probe} on port ${p.grpc.port}, want ${healthPort(svc)}`);
  }
  if (c.readinessProbe?.grpc?.service && c.readinessProbe.grpc.service !== s.grpc) {
    fail(`${id(dep)}: readinessProbe service ${c.readinessProbe.grpc.service}, want ${s.grpc}`);
  }
  const ports = Object.fromEntries((c.ports || []).map((p) => [p.name, p.containerPort]));
  if (ports.grpc !== s.port || ports.metrics !== metricsPort(svc) || ports.health !== healthPort(svc)) {
    fail(`${id(dep)}: container ports ${JSON.stringify(ports)} do not match the contract`);
  }
  // The drain fits in the grace period.
  const drain = Number(flag(argv, "--drain-seconds") ?? 20);
  const preStop = c.lifecycle?.preStop?.sleep?.seconds ?? 0;
  const grace = pod.terminationGracePeriodSeconds ?? 30;
  if (!(grace > preStop + 2 + drain)) {
    fail(`${id(dep)}: terminationGracePeriodSeconds ${grace} <= preStop ${preStop} + 2 + drain ${drain}`);
  }
  const service = find("Service", `eduaid-${svc}`);
  if (!service) fail(`Service eduaid-${svc} missing`);
  else {
    const sp = Object.fromEntries(service.spec.ports.map((p) => [p.name, p.port]));
    if (sp.grpc !== s.port || sp.metrics !== metricsPort(svc)) fail(`${id(service)}: ports ${JSON.stringify(sp)}`);
    const sel = service.spec.selector || {};
    const labels = dep.spec.template.metadata.labels || {};
    if (!Object.entries(sel).every(([k, v]) => labels[k] === v)) fail(`${id(service)}: selector does not select the pods`);
  }
  if (!find("ServiceAccount", pod.serviceAccountName)) fail(`${id(dep)}: ServiceAccount ${pod.serviceAccountName} missing`);
  return { dep, c, argv };
}

// Label-selector matching for NetworkPolicy peers.
function matches(sel, labels) {
  if (!sel) return true;
  for (const [k, v] of Object.entries(sel.matchLabels || {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions || []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    if (e.operator === "In" && !(has && e.values.includes(labels[e.key]))) return false;
    if (e.operator === "NotIn" && has && e.values.includes(labels[e.key])) return false;
    if (e.operator === "Exists" && !has) return false;
    if (e.operator === "DoesNotExist" && has) return false;
  }
  return true;
}
const portAllowed = (ports, port) => !ports || ports.length === 0 || ports.some((p) => p.port === port);

// Which eduaid services may open a connection to `target` on `port`, by the
// ingress policies of the target and the egress policies of the caller.
function reachers(target, port) {
  const podLabels = (s) => find("Deployment", `eduaid-${s}`).spec.template.metadata.labels;
  const nps = of("NetworkPolicy");
  const ingressPolicies = nps.filter((np) => (np.spec.policyTypes || ["Ingress"]).includes("Ingress") &&
    matches(np.spec.podSelector, podLabels(target)));
  const result = [];
  for (const caller of Object.keys(SERVICES)) {
    const callerLabels = podLabels(caller);
    const peerOk = (peers, labels) => !peers || peers.length === 0 ||
      peers.some((p) => !p.namespaceSelector && !p.ipBlock && matches(p.podSelector, labels));
    const inOk = ingressPolicies.length === 0 || ingressPolicies.some((np) =>
      (np.spec.ingress || []).some((r) => portAllowed(r.ports, port) && peerOk(r.from, callerLabels)));
    const egressPolicies = nps.filter((np) => (np.spec.policyTypes || []).includes("Egress") &&
      matches(np.spec.podSelector, callerLabels));
    const outOk = egressPolicies.length === 0 || egressPolicies.some((np) =>
      (np.spec.egress || []).some((r) => portAllowed(r.ports, port) && peerOk(r.to, podLabels(target))));
    if (inOk && outOk && caller !== target) result.push(caller);
  }
  return result.sort();
}

// ---- prod: Redis over TLS with a password (components/redis-tls) ----------
// "key value" lines of a redis.conf; "key = value" lines of a stunnel.conf
// (comments and [sections] left out: eduaid's has one service).
function confMap(text, sep) {
  const out = {};
  for (const raw of String(text || "").split("\n")) {
    const l = raw.trim();
    if (!l || l.startsWith("#") || l.startsWith(";") || l.startsWith("[")) continue;
    const m = sep === "=" ? l.match(/^([^=\s]+)\s*=\s*(.*)$/) : l.match(/^(\S+)\s*(.*)$/);
    if (m) out[m[1]] = m[2].replace(/^"(.*)"$/, "$1");
  }
  return out;
}
const dirOf = (p) => String(p || "").replace(/\/[^/]*$/, "");
// The volume a container sees at a path (the longest mount that holds it).
function volumeAt(pod, c, path) {
  const m = (c.volumeMounts || []).filter((x) => path === x.mountPath || path.startsWith(`${x.mountPath}/`))
    .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
  return m && (pod.volumes || []).find((v) => v.name === m.name);
}
// The text of the ConfigMap files a container has mounted, by file name.
function mountedConfigFiles(pod, c) {
  const files = {};
  for (const m of c.volumeMounts || []) {
    const v = (pod.volumes || []).find((x) => x.name === m.name);
    const cm = v?.configMap && find("ConfigMap", v.configMap.name);
    for (const [k, text] of Object.entries(cm?.data || {})) files[`${m.mountPath}/${k}`] = text;
  }
  return files;
}

// Returns what the services need to reach it: {secret, port, host} or null.
function checkRedisServer() {
  const sts = of("StatefulSet").find((s) => s.metadata.labels?.["app.kubernetes.io/name"] === "redis");
  if (!sts) return null;
  const pod = sts.spec.template.spec;
  const c = pod.containers.find((x) => x.name === "redis") || pod.containers[0];
  const confText = Object.entries(mountedConfigFiles(pod, c)).filter(([k]) => k.endsWith(".conf")).map(([, v]) => v).join("\n");
  const conf = confMap(confText, " ");
  const where = `${id(sts)} redis.conf`;
  if (conf.port !== "0") fail(`${where}: prod Redis must not listen in plaintext ("port 0"; is ${conf.port ?? "6379 (default)"})`);
  if (!/^\d+$/.test(conf["tls-port"] || "") || conf["tls-port"] === "0") fail(`${where}: no tls-port`);
  for (const k of ["tls-cert-file", "tls-key-file", "tls-ca-cert-file"]) {
    if (!conf[k]) fail(`${where}: no ${k}`);
    else if (!volumeAt(pod, c, conf[k])?.secret) fail(`${where}: ${k} ${conf[k]} is not on a Secret volume`);
  }
  if (conf["tls-auth-clients"] && conf["tls-auth-clients"] !== "yes") fail(`${where}: tls-auth-clients ${conf["tls-auth-clients"]}: client certificates must be required`);
  if (conf.requirepass !== undefined || /^\s*user\s.*\s>/m.test(confText)) fail(`${where}: a password in a ConfigMap; take it from a Secret`);
  // The password: an include file or ACL file, from a Secret directly or
  // written from one by an init container into a volume Redis mounts.
  const file = conf.aclfile || conf.include;
  if (!file) {
    fail(`${where}: no password (requirepass in an include file or an aclfile, from a Secret)`);
    return null;
  }
  const v = volumeAt(pod, c, file);
  let secret = v?.secret?.secretName;
  if (v && !secret) {
    for (const ic of pod.initContainers || []) {
      if (!(ic.volumeMounts || []).some((m) => m.name === v.name)) continue;
      const s = (ic.volumeMounts || []).map((m) => pod.volumes.find((x) => x.name === m.name)).find((x) => x?.secret);
      if (s) secret = s.secret.secretName;
    }
  }
  if (!secret) fail(`${where}: the password file ${file} does not come from a Secret`);
  const svc = of("Service").find((s) => matches({ matchLabels: s.spec.selector }, sts.spec.template.metadata.labels) &&
    s.spec.ports.some((p) => String(p.port) === conf["tls-port"]));
  if (!svc) fail(`no Service exposes Redis's tls-port ${conf["tls-port"]}`);
  return { secret, port: conf["tls-port"], host: svc?.metadata.name };
}

// One service's path to Redis: 127.0.0.1 -> TLS sidecar -> Redis, password
// from the Secret Redis uses.
function checkRedisClient(svc, dep, c, redis) {
  const pod = dep.spec.template.spec;
  const cm = find("ConfigMap", `eduaid-${svc}-config`)?.data || {};
  const url = String(cm.EDUAID_REDIS || "");
  const local = url.match(/^redis:\/\/(127\.0\.0\.1|localhost):(\d+)\/?$/);
  if (!local) return fail(`${svc}: prod reaches Redis as ${url}; only through the pod's TLS sidecar (redis://127.0.0.1:PORT)`);
  const pw = (c.env || []).find((e) => e.name === "EDUAID_REDIS_PASSWORD");
  if (!pw?.valueFrom?.secretKeyRef) fail(`${id(dep)}: EDUAID_REDIS_PASSWORD must come from a Secret`);
  else if (redis?.secret && pw.valueFrom.secretKeyRef.name !== redis.secret) {
    fail(`${id(dep)}: EDUAID_REDIS_PASSWORD from Secret ${pw.valueFrom.secretKeyRef.name}, Redis reads ${redis.secret}`);
  }
  const sidecars = [...(pod.initContainers || []).filter((x) => x.restartPolicy === "Always"), ...pod.containers.filter((x) => x !== c)];
  const proxies = sidecars.map((sc) => ({ sc, files: mountedConfigFiles(pod, sc) }))
    .map(({ sc, files }) => ({ sc, conf: confMap((sc.args || []).map((a) => files[a]).find(Boolean), "=") }))
    .filter(({ conf }) => conf.accept);
  const proxy = proxies.find(({ conf }) => conf.accept.endsWith(`:${local[2]}`) || conf.accept === local[2]);
  if (!proxy) return fail(`${id(dep)}: no TLS sidecar (stunnel, configured by its argument) accepts Redis on port ${local[2]}`);
  const p = proxy.conf;
  const what = `${id(dep)}/${proxy.sc.name} stunnel.conf`;
  if (p.accept !== `127.0.0.1:${local[2]}`) fail(`${what}: accept ${p.accept}: only 127.0.0.1 may reach the plaintext side`);
  if (p.client !== "yes") fail(`${what}: client = yes missing`);
  if (redis && p.connect !== `${redis.host}:${redis.port}`) fail(`${what}: connect ${p.connect}, want ${redis.host}:${redis.port}`);
  if (!(p.verifyChain === "yes" || p.verifyPeer === "yes") || !p.CAfile) fail(`${what}: Redis's certificate is not verified (verifyChain = yes and CAfile)`);
  if (!p.checkHost) fail(`${what}: Redis's certificate name is not checked (checkHost)`);
  if (!p.cert || !p.key) fail(`${what}: no client certificate (cert, key); Redis requires one`);
  for (const f of [p.CAfile, p.cert, p.key].filter(Boolean)) {
    if (!volumeAt(pod, proxy.sc, f)?.secret) fail(`${what}: ${f} is not on a Secret volume`);
  }
}

function checkSuite() {
  const all = yaml.dump(docs);
  if (all.includes("--insecure-no-auth")) fail("--insecure-no-auth appears in the rendered manifests");
  for (const svc of Object.keys(SERVICES)) checkService(svc);
  for (const w of of("StatefulSet")) checkHardening(w);
  if (profile === "dev") {
    for (const svc of Object.keys(SERVICES)) {
      const d = find("Deployment", `eduaid-${svc}`);
      if (d && d.spec.replicas !== 1) fail(`${id(d)}: dev runs one replica on SQLite`);
    }
  }
  if (profile !== "prod") return;
  const redisTls = checkRedisServer();
  for (const svc of Object.keys(SERVICES)) {
    const dep = find("Deployment", `eduaid-${svc}`);
    if (!dep) continue;
    const hpa = of("HorizontalPodAutoscaler").find((h) => h.spec.scaleTargetRef.kind === "Deployment" &&
      h.spec.scaleTargetRef.name === dep.metadata.name);
    if (!hpa) fail(`no HorizontalPodAutoscaler for ${id(dep)}`);
    else if (hpa.spec.minReplicas < 2) fail(`${id(hpa)}: minReplicas < 2`);
    if (dep.spec.replicas !== undefined) fail(`${id(dep)}: replicas is set although an HPA owns it`);
    const labels = dep.spec.template.metadata.labels;
    if (!of("PodDisruptionBudget").some((p) => matches(p.spec.selector, labels))) fail(`no PodDisruptionBudget for ${id(dep)}`);
    if (!of("NetworkPolicy").some((np) => matches(np.spec.podSelector, labels))) fail(`no NetworkPolicy for ${id(dep)}`);
    const argv = dep.spec.template.spec.containers[0].args;
    const cm = find("ConfigMap", `eduaid-${svc}-config`)?.data || {};
    if (!String(cm.EDUAID_DATABASE || "").startsWith("postgres://")) fail(`${svc}: prod must use PostgreSQL`);
    if (!cm.EDUAID_TLS_CERT || !cm.EDUAID_TLS_CLIENT_CA) fail(`${svc}: prod must serve mTLS`);
    if (cm.EDUAID_JWT_SECRET_FILE) fail(`${svc}: prod must not use an HS256 secret`);
    if (!cm.EDUAID_JWT_PUBLIC_KEYS) fail(`${svc}: prod needs --jwt-public-keys`);
    if (flag(argv, "--drain-seconds") !== "20") fail(`${svc}: expected --drain-seconds 20`);
    if (flag(argv, "--jwt-allow-hs256") !== "false") fail(`${svc}: prod must refuse HS256 tokens (--jwt-allow-hs256=false)`);
    checkRedisClient(svc, dep, dep.spec.template.spec.containers[0], redisTls);
    for (const c of [...(dep.spec.template.spec.initContainers || []), ...dep.spec.template.spec.containers]) {
      if (c.image.startsWith("localhost/")) fail(`${id(dep)}: prod image ${c.image} is a local build`);
    }
  }
  // Each service reachable only by its callers (on its gRPC port).
  if (of("NetworkPolicy").length) {
    for (const [svc, s] of Object.entries(SERVICES)) {
      const want = Object.keys(SERVICES).filter((c) => SERVICES[c].peers.includes(svc)).sort();
      const got = reachers(svc, s.port);
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        fail(`NetworkPolicy: ${svc}:${s.port} reachable from [${got}], want exactly [${want}]`);
      }
    }
    const deny = of("NetworkPolicy").filter((np) => (np.spec.ingress || []).length === 0 && (np.spec.egress || []).length === 0 &&
      ["Ingress", "Egress"].every((t) => (np.spec.policyTypes || []).includes(t)));
    for (const svc of Object.keys(SERVICES)) {
      const labels = find("Deployment", `eduaid-${svc}`).spec.template.metadata.labels;
      if (!deny.some((np) => matches(np.spec.podSelector, labels))) fail(`no default-deny NetworkPolicy covers ${svc}`);
    }
  }
  const sm = of("ServiceMonitor");
  if (sm.length === 0) fail("no ServiceMonitor");
  for (const m of sm) {
    if (!m.spec.endpoints.some((e) => e.port === "metrics")) fail(`${id(m)}: no endpoint on the metrics port`);
  }
  const rules = of("PrometheusRule").flatMap((r) => r.spec.groups.flatMap((g) => g.rules));
  if (rules.length === 0) fail("no PrometheusRule");
  const alerts = rules.filter((r) => r.alert);
  const needed = {
    "error rate": /grpc_server_handled_total/,
    "latency": /grpc_server_handling_seconds_bucket/,
    "cache bypass": /eduaid_cache_bypass_total/,
    "outbox backlog": /eduaid_vocational_outbox_backlog/,
    "journal verification": /eduaid_ledger_journal_verify_failures_total/,
    "visit coverage": /eduaid_teacher_visit_coverage_ratio/,
  };
  for (const [what, re] of Object.entries(needed)) {
    if (!alerts.some((a) => re.test(a.expr))) fail(`PrometheusRule: no ${what} alert`);
  }
  for (const a of alerts) {
    if (!a.labels?.severity) fail(`alert ${a.alert}: no severity label`);
    if (!a.annotations?.runbook) fail(`alert ${a.alert}: no runbook annotation`);
  }
  const cluster = of("Cluster").find((c) => c.apiVersion === "postgresql.cnpg.io/v1");
  if (!cluster) fail("no CloudNativePG Cluster");
  else {
    if (!(cluster.spec.instances >= 2)) fail(`${id(cluster)}: fewer than 2 instances`);
    if (!cluster.spec.storage?.size) fail(`${id(cluster)}: no storage size`);
    if (!cluster.spec.backup) fail(`${id(cluster)}: no backup configuration`);
  }
  const redis = of("StatefulSet").find((s) => s.metadata.labels?.["app.kubernetes.io/name"] === "redis");
  if (!redis) fail("no Redis StatefulSet");
  else {
    if (!(redis.spec.volumeClaimTemplates || []).length) fail(`${id(redis)}: no PersistentVolumeClaim`);
    const conf = of("ConfigMap").map((c) => Object.values(c.data || {}).join("\n")).join("\n");
    if (!/^appendonly yes$/m.test(conf)) fail("Redis: appendonly yes is not configured");
  }
}

// --selftest: the rules must catch known mistakes (each mutation of a valid
// rendering must produce at least one problem).
const MUTATIONS = {
  "gRPC probe without port": (ds) => { delete ds.find((d) => d.metadata.name === "eduaid-registry" && d.kind === "Deployment").spec.template.spec.containers[0].readinessProbe.grpc.port; },
  "--insecure-no-auth": (ds) => { ds.find((d) => d.kind === "Deployment").spec.template.spec.containers[0].args.push("--insecure-no-auth"); },
  "misspelt field": (ds) => { const sc = ds.find((d) => d.kind === "Deployment").spec.template.spec.containers[0].securityContext; sc.readOnlyRootFileSystem = true; delete sc.readOnlyRootFilesystem; },
  "wrong health port": (ds) => { ds.find((d) => d.metadata.name === "eduaid-ledger" && d.kind === "Deployment").spec.template.spec.containers[0].livenessProbe.grpc.port = 50151; },
  "grace shorter than drain": (ds) => { ds.find((d) => d.kind === "Deployment").spec.template.spec.terminationGracePeriodSeconds = 20; },
  "undefined $(VAR)": (ds) => { ds.find((d) => d.kind === "Deployment").spec.template.spec.containers[0].args.push("--workers=$(EDUAID_WORKRES)"); },
  "--flag= with an empty value": (ds) => { ds.find((d) => d.kind === "Deployment").spec.template.spec.containers[0].args.push("--tls-cert="); },
  "ledger without --policy": (ds) => { const c = ds.find((d) => d.metadata.name === "eduaid-ledger" && d.kind === "Deployment").spec.template.spec.containers[0]; const i = c.args.indexOf("--policy"); c.args.splice(i, 2); },
  "policy file not in the image": (ds) => { ds.find((d) => d.metadata.name === "eduaid-ledger-config").data.EDUAID_LEDGER_POLICY = "/usr/share/eduaid/policy/nowhere.textproto"; },
  "literal secret": (ds) => { ds.find((d) => d.kind === "Deployment").spec.template.spec.containers[0].env.push({ name: "EDUAID_DATA_KEY", value: "00" }); },
  "no HPA": (ds) => { ds.splice(ds.findIndex((d) => d.kind === "HorizontalPodAutoscaler"), 1); },
  "ledger open to registry": (ds) => {
    const ing = ds.find((d) => d.metadata.name === "eduaid-ledger-ingress");
    ing.spec.ingress[0].from[0].podSelector.matchExpressions[0].values.push("registry");
    const eg = ds.find((d) => d.metadata.name === "eduaid-registry-egress");
    eg.spec.egress.push({ to: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "ledger" } } }], ports: [{ protocol: "TCP", port: 50052 }] });
  },
  "no default deny": (ds) => { ds.splice(ds.findIndex((d) => d.metadata.name === "eduaid-default-deny"), 1); },
  "no journal alert": (ds) => { for (const r of ds.filter((d) => d.kind === "PrometheusRule")) for (const g of r.spec.groups) g.rules = g.rules.filter((x) => !/journal/.test(x.expr || "")); },
  "Redis without persistence": (ds) => { delete ds.find((d) => d.kind === "StatefulSet").spec.volumeClaimTemplates; },
  "Redis plaintext port": (ds) => { const cm = ds.find((d) => d.metadata.name === "eduaid-redis-config"); cm.data["redis.conf"] = cm.data["redis.conf"].replace(/^port 0$/m, "port 6379"); },
  "Redis without password": (ds) => { const cm = ds.find((d) => d.metadata.name === "eduaid-redis-config"); cm.data["redis.conf"] = cm.data["redis.conf"].replace(/^include .*$/m, ""); },
  "Redis password in the ConfigMap": (ds) => { const cm = ds.find((d) => d.metadata.name === "eduaid-redis-config"); cm.data["redis.conf"] += "requirepass hunter2\n"; },
  "Redis client certificates optional": (ds) => { const cm = ds.find((d) => d.metadata.name === "eduaid-redis-config"); cm.data["redis.conf"] = cm.data["redis.conf"].replace(/^tls-auth-clients .*$/m, "tls-auth-clients optional"); },
  "service connects to Redis directly": (ds) => { ds.find((d) => d.metadata.name === "eduaid-ledger-config").data.EDUAID_REDIS = "redis://eduaid-redis:6379"; },
  "no TLS sidecar": (ds) => { delete ds.find((d) => d.metadata.name === "eduaid-registry" && d.kind === "Deployment").spec.template.spec.initContainers; },
  "sidecar does not verify Redis": (ds) => { const cm = ds.find((d) => d.metadata.name === "eduaid-redis-tls-proxy"); cm.data["stunnel.conf"] = cm.data["stunnel.conf"].replace(/^verifyChain = yes$/m, "verifyChain = no"); },
  "sidecar ignores Redis's name": (ds) => { const cm = ds.find((d) => d.metadata.name === "eduaid-redis-tls-proxy"); cm.data["stunnel.conf"] = cm.data["stunnel.conf"].replace(/^checkHost.*$/m, ""); },
  "sidecar open to the network": (ds) => { const cm = ds.find((d) => d.metadata.name === "eduaid-redis-tls-proxy"); cm.data["stunnel.conf"] = cm.data["stunnel.conf"].replace(/^accept = 127\.0\.0\.1:/m, "accept = 0.0.0.0:"); },
  "no Redis password for a service": (ds) => { const c = ds.find((d) => d.metadata.name === "eduaid-teacher" && d.kind === "Deployment").spec.template.spec.containers[0]; c.env = c.env.filter((e) => e.name !== "EDUAID_REDIS_PASSWORD"); },
  "HS256 allowed in prod": (ds) => { const c = ds.find((d) => d.metadata.name === "eduaid-vocational" && d.kind === "Deployment").spec.template.spec.containers[0]; c.args = c.args.filter((a) => !a.startsWith("--jwt-allow-hs256")); },
  "--jwt-allow-hs256=true in prod": (ds) => { const c = ds.find((d) => d.metadata.name === "eduaid-ledger" && d.kind === "Deployment").spec.template.spec.containers[0]; c.args = c.args.map((a) => a.startsWith("--jwt-allow-hs256") ? "--jwt-allow-hs256=true" : a); },
};

async function runAll(withTypes) {
  errors = [];
  const models = await schemaCheck();
  if (withTypes) typeCheck(models);
  if (profile !== "none") checkSuite();
  return errors;
}

if (process.env.EDUAID_SELFTEST === "1") {
  const original = JSON.stringify(docs);
  let missed = 0;
  for (const [what, mutate] of Object.entries(MUTATIONS)) {
    docs = JSON.parse(original);
    mutate(docs);
    const found = await runAll(what === "misspelt field");
    if (process.env.EDUAID_SELFTEST_VERBOSE === "1") console.log(`  ${what}: ${found.join(" | ")}`);
    if (found.length === 0) {
      console.log(`  FAIL selftest: the mutation "${what}" was not caught`);
      missed++;
    }
  }
  console.log(`${name}: selftest ${Object.keys(MUTATIONS).length - missed}/${Object.keys(MUTATIONS).length} mutations caught`);
  process.exit(missed ? 1 : 0);
}
await runAll(true);

const kinds = {};
for (const d of docs) kinds[d.kind] = (kinds[d.kind] || 0) + 1;
const summary = Object.entries(kinds).sort().map(([k, n]) => `${k}x${n}`).join(" ");
if (errors.length) {
  for (const e of errors) console.log(`  FAIL ${name}: ${e}`);
  console.log(`${name}: ${errors.length} problem(s) in ${docs.length} objects`);
  process.exit(1);
}
console.log(`${name}: ${docs.length} objects valid (${summary})`);
