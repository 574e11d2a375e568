#!/usr/bin/python3
"""Structural check of deploy/envoy/envoy.yaml (Envoy is not installed here).

  envoy_check.py ENVOY_YAML [DESCRIPTOR_SET]      check; prints a summary
  envoy_check.py --selftest ENVOY_YAML            every known mistake, made
                                                  on a copy, must be caught

Rules (docs/DEPLOY.md, "Agency gateway (Envoy)"):
  - routing: the transcoder names exactly the four eduaid services, each has
    a route to a defined cluster; with a descriptor set, it has no eduaid
    service Envoy does not route;
  - downstream: every filter chain of every listener (and any
    default_filter_chain) has a TLS transport socket (DownstreamTlsContext)
    with require_client_certificate true, a server certificate and key from
    files, and a validation context with a trusted CA (the agencies' CA);
    no chain accepts untrusted certificates;
  - upstream: every cluster speaks TLS (UpstreamTlsContext) with a client
    certificate (the services require one in prod, k8s/components/mtls),
    verifies the pod's certificate against a trusted CA and matches its name
    (a subject alternative name matcher), with SNI;
  - the admin interface listens on loopback only.
Exit 1 with one line per problem.
"""
import copy
import sys

import yaml

SERVICES = {
    "eduaid.registry.v1.StudentRegistryService",
    "eduaid.ledger.v1.SubsidyLedgerService",
    "eduaid.teacher.v1.TeacherSupportService",
    "eduaid.vocational.v1.VocationalTrainingService",
}
TLS_SOCKET = "envoy.transport_sockets.tls"
DOWNSTREAM = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext"
UPSTREAM = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"
HCM = "envoy.filters.network.http_connection_manager"
TRANSCODER = "envoy.filters.http.grpc_json_transcoder"


def truthy(v):
    """A protobuf BoolValue in YAML: `true` or `{value: true}`."""
    if isinstance(v, dict):
        v = v.get("value")
    return v is True


def data_source(d):
    """A DataSource names a file or inline data."""
    return isinstance(d, dict) and any(d.get(k) for k in ("filename", "inline_string", "inline_bytes"))


def check_common_tls(ctx, where, problems, need_cert):
    common = ctx.get("common_tls_context") or {}
    certs = common.get("tls_certificates") or []
    sds = common.get("tls_certificate_sds_secret_configs") or []
    if need_cert and not certs and not sds:
        problems.append(f"{where}: no certificate (common_tls_context.tls_certificates)")
    for i, c in enumerate(certs):
        if not data_source(c.get("certificate_chain")) or not data_source(c.get("private_key")):
            problems.append(f"{where}: tls_certificates[{i}] lacks certificate_chain or private_key")
    vc = common.get("validation_context")
    if vc is None and common.get("combined_validation_context"):
        vc = common["combined_validation_context"].get("default_validation_context")
    if vc is None and common.get("validation_context_sds_secret_config"):
        vc = {"trusted_ca": {"filename": "(sds)"}}
    if not vc or not data_source(vc.get("trusted_ca")):
        problems.append(f"{where}: no validation context with a trusted CA")
        vc = {}
    if vc.get("trust_chain_verification", "VERIFY_TRUST_CHAIN") != "VERIFY_TRUST_CHAIN":
        problems.append(f"{where}: trust_chain_verification {vc['trust_chain_verification']} accepts untrusted peers")
    return vc


def check_downstream(cfg, problems):
    listeners = (cfg.get("static_resources") or {}).get("listeners") or []
    if not listeners:
        problems.append("no listener")
    chains = 0
    for ln in listeners:
        name = ln.get("name", "?")
        all_chains = list(enumerate(ln.get("filter_chains") or []))
        if ln.get("default_filter_chain") is not None:
            all_chains.append(("default", ln["default_filter_chain"]))
        if not all_chains:
            problems.append(f"listener {name}: no filter chain")
        for i, fc in all_chains:
            chains += 1
            where = f"listener {name} filter_chains[{i}]"
            ts = fc.get("transport_socket")
            if not ts:
                problems.append(f"{where}: plaintext (no transport_socket)")
                continue
            tc = ts.get("typed_config") or {}
            if ts.get("name") != TLS_SOCKET or tc.get("@type") != DOWNSTREAM:
                problems.append(f"{where}: transport socket is not TLS ({ts.get('name')}, {tc.get('@type')})")
                continue
            if not truthy(tc.get("require_client_certificate")):
                problems.append(f"{where}: require_client_certificate is not true")
            check_common_tls(tc, where, problems, need_cert=True)
    return len(listeners), chains


def check_upstream(cfg, problems):
    clusters = (cfg.get("static_resources") or {}).get("clusters") or []
    for c in clusters:
        where = f"cluster {c.get('name', '?')}"
        ts = c.get("transport_socket")
        tc = (ts or {}).get("typed_config") or {}
        if not ts or ts.get("name") != TLS_SOCKET or tc.get("@type") != UPSTREAM:
            problems.append(f"{where}: not TLS to the pods (no UpstreamTlsContext transport socket)")
            continue
        vc = check_common_tls(tc, where, problems, need_cert=True)
        if not (vc.get("match_typed_subject_alt_names") or vc.get("match_subject_alt_names")):
            problems.append(f"{where}: the pod certificate's name is not checked (no subject alt name matcher)")
        if not tc.get("sni"):
            problems.append(f"{where}: no sni")
    return len(clusters)


def check_routing(cfg, descriptor, problems):
    try:
        ln = cfg["static_resources"]["listeners"][0]
        hcm = next(f for f in ln["filter_chains"][0]["filters"] if f["name"] == HCM)["typed_config"]
        tr = next(f for f in hcm["http_filters"] if f["name"] == TRANSCODER)["typed_config"]
    except (KeyError, IndexError, StopIteration, TypeError) as e:
        problems.append(f"no HTTP connection manager with the gRPC-JSON transcoder ({e!r})")
        return ""
    named = set(tr.get("services") or [])
    if named != SERVICES:
        problems.append(f"transcoder services {sorted(named)} != {sorted(SERVICES)}")
    routes = {r["match"]["prefix"].strip("/"): r["route"]["cluster"]
              for vh in hcm["route_config"]["virtual_hosts"] for r in vh["routes"]}
    clusters = {c["name"] for c in cfg["static_resources"].get("clusters") or []}
    for s in SERVICES:
        if s not in routes or routes[s] not in clusters:
            problems.append(f"no route/cluster for {s}")
    msg = "4 services routed"
    if descriptor:
        from google.protobuf import descriptor_pb2
        fds = descriptor_pb2.FileDescriptorSet()
        with open(descriptor, "rb") as f:
            fds.ParseFromString(f.read())
        have = {f"{f.package}.{s.name}" for f in fds.file for s in f.service}
        extra = {x for x in have if x.startswith("eduaid.")} - SERVICES
        if extra:
            problems.append(f"descriptor set has services Envoy does not route: {sorted(extra)}")
        msg += f"; descriptor set {descriptor} has {len(have & SERVICES)} of them"
    return msg


def check_admin(cfg, problems):
    addr = ((cfg.get("admin") or {}).get("address") or {}).get("socket_address") or {}
    if addr and addr.get("address") not in ("127.0.0.1", "::1"):
        problems.append(f"admin interface on {addr.get('address')}: loopback only")


def check(cfg, descriptor=""):
    problems = []
    msg = check_routing(cfg, descriptor, problems)
    listeners, chains = check_downstream(cfg, problems)
    clusters = check_upstream(cfg, problems)
    check_admin(cfg, problems)
    summary = (f"{msg}; {listeners} listener(s), {chains} filter chain(s), all TLS requiring a "
               f"client certificate; {clusters} cluster(s), all mTLS with name check")
    return problems, summary


def _listener(d):
    return d["static_resources"]["listeners"][0]


def _downstream(d):
    return _listener(d)["filter_chains"][0]["transport_socket"]["typed_config"]


def _cluster(d, i=0):
    return d["static_resources"]["clusters"][i]["transport_socket"]["typed_config"]


def _plaintext_listener(d):
    ln = copy.deepcopy(_listener(d))
    ln["name"] = "debug"
    ln["address"]["socket_address"]["port_value"] = 8080
    del ln["filter_chains"][0]["transport_socket"]
    d["static_resources"]["listeners"].append(ln)


def _plaintext_default_chain(d):
    fc = copy.deepcopy(_listener(d)["filter_chains"][0])
    del fc["transport_socket"]
    _listener(d)["default_filter_chain"] = fc


MUTATIONS = {
    "listener without transport socket": lambda d: _listener(d)["filter_chains"][0].pop("transport_socket"),
    "require_client_certificate false": lambda d: _downstream(d).__setitem__("require_client_certificate", False),
    "require_client_certificate missing": lambda d: _downstream(d).pop("require_client_certificate"),
    "no agency CA": lambda d: _downstream(d)["common_tls_context"].pop("validation_context"),
    "untrusted client certificates accepted": lambda d: _downstream(d)["common_tls_context"]["validation_context"]
    .__setitem__("trust_chain_verification", "ACCEPT_UNTRUSTED"),
    "no server certificate": lambda d: _downstream(d)["common_tls_context"].pop("tls_certificates"),
    "UpstreamTlsContext on the listener": lambda d: _downstream(d).__setitem__("@type", UPSTREAM),
    "a second, plaintext listener": _plaintext_listener,
    "a plaintext default_filter_chain": _plaintext_default_chain,
    "plaintext to a cluster": lambda d: d["static_resources"]["clusters"][3].pop("transport_socket"),
    "no client certificate to a cluster": lambda d: _cluster(d, 1)["common_tls_context"].pop("tls_certificates"),
    "pod name not checked": lambda d: _cluster(d, 2)["common_tls_context"]["validation_context"]
    .pop("match_typed_subject_alt_names"),
    "admin on every address": lambda d: d["admin"]["address"]["socket_address"].__setitem__("address", "0.0.0.0"),
    "transcoder misses a service": lambda d: _listener(d)["filter_chains"][0]["filters"][0]["typed_config"]
    ["http_filters"][0]["typed_config"]["services"].pop(),
}


def selftest(cfg):
    problems, _ = check(cfg)
    if problems:
        print("selftest: the file itself fails:\n  " + "\n  ".join(problems))
        return 1
    missed = []
    for what, mutate in MUTATIONS.items():
        d = copy.deepcopy(cfg)
        mutate(d)
        if not check(d)[0]:
            missed.append(what)
    for what in missed:
        print(f"  FAIL selftest: the mutation \"{what}\" was not caught")
    print(f"Envoy selftest: {len(MUTATIONS) - len(missed)}/{len(MUTATIONS)} mutations caught")
    return 1 if missed else 0


def main(argv):
    if len(argv) >= 2 and argv[0] == "--selftest":
        with open(argv[1]) as f:
            return selftest(yaml.safe_load(f))
    if not argv:
        print(__doc__)
        return 2
    with open(argv[0]) as f:
        cfg = yaml.safe_load(f)
    problems, summary = check(cfg, argv[1] if len(argv) > 1 else "")
    for p in problems:
        print(f"FAIL {p}")
    if problems:
        return 1
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
