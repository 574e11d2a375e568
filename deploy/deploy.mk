# Images, Kubernetes manifests and monitoring: the deploy checks (issue 7).
# Included by the Makefile (`-include deploy/deploy.mk`).
#
#   make images         build the service images with podman (scripts/images.sh)
#   make images-test    build them and run each one as Kubernetes would: health,
#                       mTLS-less probe port, auth, /metrics, SIGTERM drain (slow)
#   make k8s-check      render every overlay, offline schema validation, the
#                       suite's rules, promtool rule tests, dashboard, Envoy (quick)
#   make buf-check      buf lint and buf breaking against deploy/release/protos-v1
#   make metrics-check  run the built servers as the dev and prod overlays
#                       configure them; metric names of alerts/dashboard exported
#   make redis-tls-check run prod's Redis (TLS, password) and a pod's TLS
#                       sidecar (stunnel) from the rendered overlay (quick)
#   make deploy-check   k8s-check + buf-check + metrics-check + redis-tls-check (for CI)

# This file may be read before the Makefile's first rule: keep `all` the default.
ifeq ($(.DEFAULT_GOAL),)
.DEFAULT_GOAL := all
endif

.PHONY: images images-test k8s-check buf-check metrics-check redis-tls-check deploy-check

images:
	bash scripts/images.sh build

images-test:
	bash tests/deploy/images_test.sh

k8s-check:
	bash tests/deploy/k8s_check.sh

buf-check:
	bash tests/deploy/buf_check.sh

metrics-check: build
	bash tests/deploy/suite_check.sh $(BUILD_DIR)

redis-tls-check:
	bash tests/deploy/redis_tls_check.sh

deploy-check: k8s-check buf-check metrics-check redis-tls-check
