# functions/lambda.mk: how a function is built for Lambda. Each
# functions/<name>/Makefile includes it and declares the one target `sam
# build` runs for that function (template.yaml: Metadata BuildMethod
# makefile): build-<LogicalId>, which calls lambda-build. The root Makefile's
# `lambdas` target runs the same targets.
#
# Why makefile and not go1.x: SAM's go1.x builder takes no -ldflags, and a
# stripped binary is 20-30% smaller (BENCHMARKS.md, Lambda sizes).
#
# What this relies on (aws-lambda-builders' custom_make workflow, which sam
# build uses for BuildMethod makefile): SAM copies the CodeUri
# (functions/<name>/, without .git and .aws-sam) to a scratch directory and
# runs `make --makefile <CodeUri>/Makefile build-<LogicalId>` there, with
# ARTIFACTS_DIR (absolute) in the environment; it then packages what the
# target left in ARTIFACTS_DIR. The scratch copy holds neither go.mod nor the
# packages the function imports, so the build does not run in the current
# directory: it runs in the repository root, found from this file's own
# path, which --makefile makes the path in the source tree. The same holds
# for `sam build --build-in-source` and for `make -C functions/<name>`, which
# run in place. `sam build --use-container` is not supported: the container
# sees only the CodeUri. TestSAMMakefileTargetsBuildStrippedArm64
# (infra/lambdasize) runs every target the way SAM does and checks the
# bootstrap it leaves.

GO ?= go

# LAMBDA_ROOT is the repository root: this file is functions/lambda.mk.
LAMBDA_ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))..)

# LAMBDA_GOFLAGS are the flags of every Lambda build: no RPC mode in
# aws-lambda-go (provided.al2023 never uses it), no machine paths in the
# binary, and no symbol table or DWARF (-s -w), which Lambda never reads.
LAMBDA_GOFLAGS := -tags lambda.norpc -trimpath -ldflags="-s -w"

# lambda-build,NAME builds ./functions/NAME into $(ARTIFACTS_DIR)/bootstrap
# for provided.al2023 on arm64 (template.yaml Globals: Architectures).
define lambda-build
@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set: sam build sets it; by hand, add ARTIFACTS_DIR=<dir>" >&2; exit 1; }
@test -f "$(LAMBDA_ROOT)/go.mod" || { echo "no go.mod in $(LAMBDA_ROOT): run this Makefile from the source tree (sam build passes it with --makefile)" >&2; exit 1; }
cd "$(LAMBDA_ROOT)" && GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build $(LAMBDA_GOFLAGS) -o "$(abspath $(ARTIFACTS_DIR))/bootstrap" ./functions/$(1)
endef
