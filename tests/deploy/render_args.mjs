// Turns a rendered Deployment into the command line the kubelet would run, so
// that the real server binary can be started here exactly as Kubernetes
// would start it (tests/deploy/run_rendered.sh).
//
//   node render_args.mjs RENDERED.yaml SERVICE ROOT PORT_OFFSET REDIS_URL
//
// $(VAR) references are expanded from the container's env values and its
// envFrom ConfigMaps, as the kubelet does. Then, for this machine: paths
// under /etc/eduaid and /var/lib/eduaid move under ROOT, those under
// /usr/share/eduaid to $EDUAID_SHARE_DIR when set; the bind address
// becomes 127.0.0.1; every port (own and peers') moves by PORT_OFFSET; peer
// host names become 127.0.0.1; a postgres:// database becomes a SQLite file
// under ROOT (no PostgreSQL here); the Redis URL becomes REDIS_URL.
// Prints JSON: {"args": [...], "env": {...}, "secretFiles": [...], "ports": {...},
// "mtls": bool, "grace": terminationGracePeriodSeconds}
// where secretFiles lists the Secret-backed files the pod would see.
import { readFileSync } from "node:fs";
import yaml from "js-yaml";

const [file, svc, root, offsetArg, redisUrl] = process.argv.slice(2);
const offset = Number(offsetArg || 0);
const docs = yaml.loadAll(readFileSync(file, "utf8")).filter(Boolean);
const dep = docs.find((d) => d.kind === "Deployment" && d.metadata.name === `eduaid-${svc}`);
if (!dep) {
  console.error(`no Deployment eduaid-${svc} in ${file}`);
  process.exit(2);
}
const c = dep.spec.template.spec.containers.find((x) => x.name === svc);
const env = {};
for (const ef of c.envFrom || []) {
  const cm = docs.find((d) => d.kind === "ConfigMap" && d.metadata.name === ef.configMapRef?.name);
  Object.assign(env, cm?.data || {});
}
for (const e of c.env || []) if (e.value !== undefined) env[e.name] = e.value;
const expand = (s) => s.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, v) => (v in env ? env[v] : m));

// EDUAID_SHARE_DIR: where /usr/share/eduaid's files (policy/, shipped in
// the image) are here: the repository root.
const share = process.env.EDUAID_SHARE_DIR;
const movePath = (s) => {
  let out = s.replace(/(^|,)(\/etc\/eduaid|\/var\/lib\/eduaid)/g, `$1${root}$2`);
  if (share) out = out.replace(/(^|,)\/usr\/share\/eduaid\//g, `$1${share}/`);
  return out;
};
const movePort = (p) => String(Number(p) + offset);
const moveAddr = (s) => s.replace(/^[A-Za-z0-9.-]+:(\d+)$/, (m, p) => `127.0.0.1:${movePort(p)}`);

const out = [];
const args = (c.args || []).map(expand);
const PEERS = new Set(["--registry", "--ledger", "--teacher", "--vocational"]);
for (let i = 0; i < args.length; i++) {
  let a = args[i];
  let name = a;
  let value;
  // "--flag=value" stays one item: a boolean flag (--jwt-allow-hs256=false)
  // takes its value only in that form.
  const joined = a.startsWith("--") && a.includes("=");
  if (joined) {
    name = a.slice(0, a.indexOf("="));
    value = a.slice(a.indexOf("=") + 1);
  } else if (a.startsWith("--") && i + 1 < args.length && !args[i + 1].startsWith("--")) {
    value = args[++i];
  }
  if (value !== undefined) {
    if (name === "--bind") value = "127.0.0.1";
    else if (/^--(grpc|metrics|health)-port$/.test(name)) value = movePort(value);
    else if (PEERS.has(name)) value = moveAddr(value);
    else if (name === "--database" && /^postgres(ql)?:\/\//.test(value)) value = `sqlite://${root}/var/lib/eduaid/${svc}.db`;
    else if (name === "--database") value = movePath(value);
    else if (name === "--redis") value = redisUrl ?? value;
    else value = movePath(value);
    if (joined) out.push(`${name}=${value}`);
    else out.push(name, value);
  } else out.push(a);
}
const secretFiles = [];
const vols = Object.fromEntries((dep.spec.template.spec.volumes || []).map((v) => [v.name, v]));
for (const m of c.volumeMounts || []) {
  const v = vols[m.name];
  if (v?.secret) {
    secretFiles.push({ dir: movePath(m.mountPath), secret: v.secret.secretName, optional: !!v.secret.optional,
      items: (v.secret.items || []).map((x) => x.path) });
  }
}
const ports = Object.fromEntries((c.ports || []).map((p) => [p.name, p.containerPort + offset]));
// Only the plain values: Secret-backed env (PGPASSWORD, ...) is not set here.
const plainEnv = Object.fromEntries((c.env || []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value]));
const flagValue = (n) => {
  const i = out.indexOf(n);
  if (i >= 0) return out[i + 1];
  const j = out.findIndex((a) => a.startsWith(`${n}=`));
  return j < 0 ? "" : out[j].slice(n.length + 1);
};
console.log(JSON.stringify({
  args: out, env: plainEnv, secretFiles, ports,
  mtls: flagValue("--tls-client-ca") !== "",
  grace: dep.spec.template.spec.terminationGracePeriodSeconds ?? 30,
}));
