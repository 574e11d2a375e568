#!/usr/bin/python3
"""A tiny gRPC client for the deploy checks: health checks and a denied call.

  /usr/bin/python3 tests/deploy/grpc_health.py [--wait SECONDS] [--service NAME]
      HOST:PORT...
      Waits until every target answers grpc.health.v1.Health/Check with
      SERVING for NAME ("" = the server as a whole). Exit 0 when all are
      SERVING, 1 otherwise.

  --tls-ca CA [--tls-cert CERT --tls-key KEY]: talk TLS (mTLS with a client
      certificate) instead of plaintext. --expect-refused: the health check
      must fail (e.g. mTLS without a client certificate); exit 0 if it does.

  /usr/bin/python3 tests/deploy/grpc_health.py --expect-unauthenticated
      DESCRIPTOR_SET SERVICE HOST:PORT
      Calls the first method of SERVICE (fully qualified) with an empty
      request and no token: the server must answer UNAUTHENTICATED.

python3-grpcio works only under /usr/bin/python3 on these machines. The
health stubs are compiled at run time from Debian's grpc-proto package with
protoc and grpc_python_plugin, under another file name so that the generated
package does not shadow `grpc`.
"""
import argparse
import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import time

import grpc

HEALTH_PROTO = "/usr/share/grpc-proto/grpc/health/v1/health.proto"


def health_stubs():
    out = tempfile.mkdtemp(prefix="eduaid-health-")
    atexit.register(shutil.rmtree, out, True)
    with open(HEALTH_PROTO) as src, open(os.path.join(out, "eduaid_health.proto"), "w") as dst:
        dst.write(src.read())
    subprocess.run(
        ["protoc", "-I", out, "--python_out", out, "--grpc_python_out", out,
         "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin",
         os.path.join(out, "eduaid_health.proto")],
        check=True)
    sys.path.insert(0, out)
    import eduaid_health_pb2  # noqa: E402
    import eduaid_health_pb2_grpc  # noqa: E402
    return eduaid_health_pb2, eduaid_health_pb2_grpc


def open_channel(target, tls):
    if not tls or not tls.tls_ca:
        return grpc.insecure_channel(target)
    read = lambda p: open(p, "rb").read() if p else None  # noqa: E731
    creds = grpc.ssl_channel_credentials(
        root_certificates=read(tls.tls_ca), private_key=read(tls.tls_key),
        certificate_chain=read(tls.tls_cert))
    return grpc.secure_channel(target, creds)


def check_health(targets, service, wait, tls=None, expect_refused=False):
    pb, pb_grpc = health_stubs()
    deadline = time.monotonic() + wait
    pending = list(targets)
    last = {}
    while pending:
        for target in list(pending):
            with open_channel(target, tls) as channel:
                try:
                    resp = pb_grpc.HealthStub(channel).Check(
                        pb.HealthCheckRequest(service=service), timeout=2)
                    status = pb.HealthCheckResponse.ServingStatus.Name(resp.status)
                except grpc.RpcError as e:
                    status = e.code().name
            last[target] = status
            if expect_refused:
                ok = status != "SERVING"
                print(f"{target}: {status} ({'refused as expected' if ok else 'NOT refused'})")
                if not ok:
                    return 1
                pending.remove(target)
                continue
            if status == "SERVING":
                print(f"{target} {service or '(server)'}: SERVING")
                pending.remove(target)
        if pending:
            if time.monotonic() > deadline:
                for t in pending:
                    print(f"{t} {service or '(server)'}: {last.get(t)} after {wait:.0f} s")
                return 1
            time.sleep(0.5)
    return 0


def expect_unauthenticated(descriptor_set, service, target, tls=None):
    from google.protobuf import descriptor_pb2
    fds = descriptor_pb2.FileDescriptorSet()
    with open(descriptor_set, "rb") as f:
        fds.ParseFromString(f.read())
    method = None
    for fd in fds.file:
        for svc in fd.service:
            if f"{fd.package}.{svc.name}" == service:
                unary = [m for m in svc.method if not m.client_streaming and not m.server_streaming]
                method = (unary or list(svc.method))[0].name if svc.method else None
    if method is None:
        print(f"{service}: not in {descriptor_set}")
        return 1
    with open_channel(target, tls) as channel:
        call = channel.unary_unary(f"/{service}/{method}",
                                   request_serializer=lambda b: b,
                                   response_deserializer=lambda b: b)
        try:
            call(b"", timeout=5)
            print(f"{target} {service}/{method} without a token: OK (want UNAUTHENTICATED)")
            return 1
        except grpc.RpcError as e:
            ok = e.code() == grpc.StatusCode.UNAUTHENTICATED
            print(f"{target} {service}/{method} without a token: {e.code().name}")
            return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wait", type=float, default=30)
    ap.add_argument("--service", default="")
    ap.add_argument("--expect-unauthenticated", nargs=2, metavar=("DESCRIPTOR_SET", "SERVICE"))
    ap.add_argument("--tls-ca")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--expect-refused", action="store_true")
    ap.add_argument("targets", nargs="+")
    a = ap.parse_args()
    if a.expect_unauthenticated:
        return expect_unauthenticated(*a.expect_unauthenticated, a.targets[0], a)
    return check_health(a.targets, a.service, a.wait, a, a.expect_refused)


if __name__ == "__main__":
    sys.exit(main())
